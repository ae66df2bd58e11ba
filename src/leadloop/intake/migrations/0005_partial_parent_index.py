"""Index a submission's parent only where it has one (records split from a bigger payload).

Raw DROP INDEX rather than AlterField, which on SQLite would rebuild the submissions table.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('intake', '0004_import_batch_progress'),
        ('leads', '0006_analyze_leads'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='rawsubmission',
                    name='parent',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='children', to='intake.rawsubmission'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "intake_rawsubmission_parent_id_85184d14"',
                    'CREATE INDEX "intake_rawsubmission_parent_id_85184d14" '
                    'ON "intake_rawsubmission" ("parent_id")',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='rawsubmission',
            index=models.Index(condition=models.Q(('parent__isnull', False)), fields=['parent'], name='submission_parent'),
        ),
    ]
