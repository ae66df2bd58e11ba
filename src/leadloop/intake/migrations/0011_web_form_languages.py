"""Web forms speak languages: a default language, the others enabled, and texts per language.

The texts a form already has (title, questions, consent, thank-you) were written in the
deployment's language, so they become the texts of that language, the form's default; the form
speaks only that language until its author enables another.
"""

from django.db import migrations, models

import leadloop.intake.web_forms.models


def texts_into_default_language(apps, schema_editor):
    LeadForm = apps.get_model("intake", "LeadForm")
    language = leadloop.intake.web_forms.models.deployment_language()
    LeadForm.objects.update(language=language, languages=[language])


class Migration(migrations.Migration):
    dependencies = [
        ("intake", "0010_submission_review_disposition"),
    ]

    operations = [
        migrations.AddField(
            model_name="formfield",
            name="translations",
            field=models.JSONField(blank=True, default=dict, verbose_name="translations"),
        ),
        migrations.AddField(
            model_name="leadform",
            name="language",
            field=models.CharField(
                default=leadloop.intake.web_forms.models.deployment_language,
                max_length=8,
                verbose_name="default language",
            ),
        ),
        migrations.AddField(
            model_name="leadform",
            name="languages",
            field=models.JSONField(blank=True, default=list, verbose_name="languages"),
        ),
        migrations.AddField(
            model_name="leadform",
            name="translations",
            field=models.JSONField(blank=True, default=dict, verbose_name="translations"),
        ),
        migrations.RunPython(texts_into_default_language, migrations.RunPython.noop),
    ]
