"""Partial indexes for columns that are empty on most leads and timeline entries.

Each index entry costs a page write per insert on the intake's hot path. Dropping a foreign key's
own index goes through raw DROP INDEX (the state still records db_index=False): on SQLite an
AlterField would rebuild the whole lead table, slowly at a million rows, and lose the search
index's triggers with the old table.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('leads', '0006_analyze_leads'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_partner_created',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_campaign_created',
        ),
        migrations.RemoveIndex(
            model_name='lead',
            name='lead_org_created',
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='activity',
                    name='actor_user',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "leads_activity_actor_user_id_ab7fedd7"',
                    'CREATE INDEX "leads_activity_actor_user_id_ab7fedd7" ON "leads_activity" ("actor_user_id")',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='activity',
                    name='lead',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='activities', to='leads.lead'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "leads_activity_lead_id_9cc33a14"',
                    'CREATE INDEX "leads_activity_lead_id_9cc33a14" ON "leads_activity" ("lead_id")',
                ),
            ],
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='lead',
                    name='lost_reason',
                    field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.PROTECT, to='leads.lostreason', verbose_name='lost reason'),
                ),
            ],
            database_operations=[
                migrations.RunSQL(
                    'DROP INDEX IF EXISTS "leads_lead_lost_reason_id_10743aee"',
                    'CREATE INDEX "leads_lead_lost_reason_id_10743aee" ON "leads_lead" ("lost_reason_id")',
                ),
            ],
        ),
        migrations.AddIndex(
            model_name='activity',
            index=models.Index(condition=models.Q(('actor_user__isnull', False)), fields=['actor_user'], name='activity_actor'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('owner_partner__isnull', False)), fields=['owner_partner', 'created_at', 'id'], name='lead_partner_created'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('campaign__isnull', False)), fields=['campaign', 'created_at', 'id'], name='lead_campaign_created'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('organization__isnull', False)), fields=['organization', 'created_at'], name='lead_org_created'),
        ),
        migrations.AddIndex(
            model_name='lead',
            index=models.Index(condition=models.Q(('lost_reason__isnull', False)), fields=['lost_reason'], name='lead_lost_reason'),
        ),
    ]
