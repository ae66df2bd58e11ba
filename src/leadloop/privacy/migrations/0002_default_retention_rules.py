"""The default retention rules (docs/security/privacy.md explains them; admins change them).

Refused and quarantined submissions are kept 90 days: long enough to fix a mapping and
reprocess, or to answer a complaint about a refused post. Lost and disqualified leads are kept
two years after their last change or timeline entry: a sales cycle coming back within that time
finds its history.
"""

from django.db import migrations

DEFAULTS = [
    ("submission", "rejected", 90),
    ("submission", "quarantined", 90),
    ("lead", "lost", 730),
    ("lead", "disqualified", 730),
]


def forward(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for target, state, days in DEFAULTS:
        RetentionRule.objects.get_or_create(
            target=target, state=state, defaults={"keep_days": days, "is_active": True}
        )


def backward(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    for target, state, days in DEFAULTS:
        RetentionRule.objects.filter(target=target, state=state, keep_days=days).delete()


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_retention_rules")]

    operations = [migrations.RunPython(forward, backward)]
