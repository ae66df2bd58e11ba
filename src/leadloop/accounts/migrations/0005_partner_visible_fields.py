"""Partner organisations get the list of lead fields their users see.

Existing organisations get the default list (contact details, address, deal numbers, extra
fields; no origin, scores, findings, fraud, device data, raw payload or staff notes). Their
users saw every field before; the default narrows that on purpose (issue 13, item 5).
"""

from typing import Any

from django.db import migrations, models

import leadloop.accounts.lead_fields


def fill_defaults(apps: Any, schema_editor: Any) -> None:
    # AddField fills the column with the default already; this says so in one place and keeps
    # the list when the column's default changes in a later version.
    partners = apps.get_model("accounts", "PartnerOrganization")
    partners.objects.update(visible_fields=leadloop.accounts.lead_fields.default_visible_fields())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_deployment_defaults"),
    ]

    operations = [
        migrations.AddField(
            model_name="partnerorganization",
            name="visible_fields",
            field=models.JSONField(
                blank=True,
                default=leadloop.accounts.lead_fields.default_visible_fields,
                verbose_name="fields its users see",
            ),
        ),
        migrations.RunPython(fill_defaults, migrations.RunPython.noop),
    ]
