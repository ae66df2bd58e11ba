from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "leadloop.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from datetime import timedelta

        from django.db.models.signals import pre_delete
        from django.utils.translation import gettext_lazy as _

        from leadloop.analytics.selectors import scope
        from leadloop.analytics.services import totals
        from leadloop.leads.models import Lead

        # A deleted lead takes its facts row with it (a cascade): its days are counted again.
        pre_delete.connect(totals.lead_deleted, sender=Lead, dispatch_uid="analytics_totals")
        from leadloop.core import navigation, schedule

        schedule.register(
            schedule.PeriodicSpec(
                "refresh_lead_facts",
                timedelta(minutes=1),
                "leadloop.analytics.tasks.refresh_facts_task",
            ),
            schedule.PeriodicSpec(
                "evaluate_alerts",
                timedelta(minutes=15),
                "leadloop.analytics.tasks.evaluate_alerts_task",
            ),
            schedule.PeriodicSpec(
                "send_weekly_reports",
                timedelta(hours=1),
                "leadloop.analytics.tasks.send_weekly_reports_task",
            ),
        )
        navigation.register(
            navigation.NavEntry(
                18,
                _("Analytics"),
                "analytics:home",
                "chart",
                "/analytics/",
                scope.can_see_analytics,
            ),
        )
