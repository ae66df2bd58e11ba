"""Move every channel password out of `Source.field_mapping` into encrypted ChannelSecret rows.

Before this, a source's FTP/SFTP and IMAP passwords sat in clear in `field_mapping["ftp"]` and
`field_mapping["imap"]`, and every serializer that printed the mapping printed them. Any
channel section (a top-level object of the mapping other than the field mapping's own
`fields`, `transforms`, `value_maps` and `constants`, where "password" can be a form label) with a
"password" key is moved, so a section an older version named differently is not left behind. Reversing puts the decrypted passwords back
(it needs the keys that encrypted them).
"""

from django.db import migrations
from django.utils import timezone

SECRET_NAMES = ("password",)
# The field mapping's own sections map form labels (which may well be "password") to lead fields.
MAPPING_SECTIONS = frozenset({"fields", "transforms", "value_maps", "constants"})


def move_out(apps, schema_editor):
    from leadloop.core import secrets

    Source = apps.get_model("leads", "Source")
    ChannelSecret = apps.get_model("intake", "ChannelSecret")
    now = timezone.now()
    for source in Source.objects.all().only("pk", "field_mapping").iterator():
        mapping = dict(source.field_mapping or {})
        changed = False
        for section, value in list(mapping.items()):
            if section in MAPPING_SECTIONS or not isinstance(value, dict):
                continue
            kept = dict(value)
            for name in SECRET_NAMES:
                if name not in kept:
                    continue
                secret = kept.pop(name)
                changed = True
                if secret:
                    ChannelSecret.objects.update_or_create(
                        source_id=source.pk,
                        section=section,
                        name=name,
                        defaults={
                            "value_encrypted": secrets.encrypt(str(secret)),
                            "updated_at": now,
                        },
                    )
            mapping[section] = kept
        if changed:
            Source.objects.filter(pk=source.pk).update(field_mapping=mapping)


def move_back(apps, schema_editor):
    from leadloop.core import secrets

    Source = apps.get_model("leads", "Source")
    ChannelSecret = apps.get_model("intake", "ChannelSecret")
    for row in ChannelSecret.objects.all().order_by("source_id", "pk"):
        source = Source.objects.get(pk=row.source_id)
        mapping = dict(source.field_mapping or {})
        section = dict(mapping.get(row.section) or {})
        section[row.name] = secrets.decrypt(row.value_encrypted)
        mapping[row.section] = section
        Source.objects.filter(pk=source.pk).update(field_mapping=mapping)
    ChannelSecret.objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("intake", "0007_channel_secret")]

    operations = [migrations.RunPython(move_out, move_back, elidable=False)]
