"""Keep enrichment providers' request headers (their API keys) encrypted, with only names readable.

Before this the headers sat in clear in `EnrichmentProvider.headers` and the provider form showed
them. The values move into `headers_encrypted` (a Fernet token of the JSON object, see
`leadloop.core.secrets`), the names into `header_names`, and the clear column goes. Reversing
decrypts them back (it needs the keys that encrypted them).
"""

import json

from django.db import migrations, models
from django.utils import timezone


def encrypt_headers(apps, schema_editor):
    from leadloop.core import secrets

    EnrichmentProvider = apps.get_model("assessment", "EnrichmentProvider")
    now = timezone.now()
    for provider in EnrichmentProvider.objects.all().order_by("pk"):
        headers = provider.headers if isinstance(provider.headers, dict) else {}
        if not headers:
            continue
        EnrichmentProvider.objects.filter(pk=provider.pk).update(
            header_names=sorted(headers),
            headers_encrypted=secrets.encrypt(json.dumps(headers, ensure_ascii=False)),
            headers_changed_at=now,
        )


def decrypt_headers(apps, schema_editor):
    from leadloop.core import secrets

    EnrichmentProvider = apps.get_model("assessment", "EnrichmentProvider")
    for provider in EnrichmentProvider.objects.exclude(headers_encrypted="").order_by("pk"):
        headers = json.loads(secrets.decrypt(provider.headers_encrypted))
        EnrichmentProvider.objects.filter(pk=provider.pk).update(headers=headers)


class Migration(migrations.Migration):
    dependencies = [("assessment", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="enrichmentprovider",
            name="header_names",
            field=models.JSONField(blank=True, default=list, verbose_name="header names"),
        ),
        migrations.AddField(
            model_name="enrichmentprovider",
            name="headers_changed_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="headers changed"),
        ),
        migrations.AddField(
            model_name="enrichmentprovider",
            name="headers_encrypted",
            field=models.TextField(blank=True, default=""),
        ),
        migrations.RunPython(encrypt_headers, decrypt_headers, elidable=False),
        migrations.RemoveField(model_name="enrichmentprovider", name="headers"),
    ]
