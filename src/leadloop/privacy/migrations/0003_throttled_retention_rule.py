"""A default retention rule for throttled submissions (docs/security/privacy.md explains it).

Posts over an intake rate limit are stored in full but never processed: mostly floods, kept
30 days so a sender's real leads among them can still be reprocessed from the review queue.
"""

from django.db import migrations

TARGET, STATE, DAYS = "submission", "throttled", 30


def forward(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    RetentionRule.objects.get_or_create(
        target=TARGET, state=STATE, defaults={"keep_days": DAYS, "is_active": True}
    )


def backward(apps, schema_editor):
    RetentionRule = apps.get_model("privacy", "RetentionRule")
    RetentionRule.objects.filter(target=TARGET, state=STATE, keep_days=DAYS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0002_default_retention_rules"),
        ("intake", "0009_submission_throttled_state"),
    ]

    operations = [migrations.RunPython(forward, backward)]
