"""The lost reasons every sales team starts with; managers add their own later."""

from django.db import migrations

REASONS = ["Price", "Competitor", "No budget", "No response", "Timing", "Not a fit"]


def forward(apps, schema_editor):
    LostReason = apps.get_model("leads", "LostReason")
    for name in REASONS:
        LostReason.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("leads", "0002_search_index")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
