from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "leadloop.sales"
    label = "sales"
    verbose_name = "Sales follow-up"

    def ready(self) -> None:
        from datetime import timedelta

        from django.utils.translation import gettext_lazy as _

        from leadloop.core import navigation, schedule
        from leadloop.leads import events
        from leadloop.privacy.registry import PersonDataSection, register_section
        from leadloop.sales.selectors import pipeline, team
        from leadloop.sales.selectors.my_day import can_work_my_day
        from leadloop.sales.services import clocks, privacy

        for name in (
            events.EventName.LEAD_BECAME_SALES_READY,
            events.EventName.ASSIGNED,
            events.EventName.STATUS_CHANGED,
            events.EventName.LEAD_MERGED,
        ):
            events.subscribe(name, clocks.on_lead_events)
        register_section(
            PersonDataSection("follow_up", export=privacy.export_for, erase=privacy.erase_for)
        )
        schedule.register(
            schedule.PeriodicSpec(
                "check_first_contact",
                timedelta(minutes=1),
                "leadloop.sales.tasks.check_clocks_task",
            ),
            schedule.PeriodicSpec(
                "send_lead_emails", timedelta(minutes=1), "leadloop.sales.tasks.send_emails_task"
            ),
            schedule.PeriodicSpec(
                "fold_pipeline_totals",
                timedelta(minutes=1),
                "leadloop.sales.tasks.fold_pipeline_task",
            ),
        )
        navigation.register(
            navigation.NavEntry(
                7, _("My day"), "sales:my-day", "day", "/sales/my-day/", can_work_my_day
            ),
            navigation.NavEntry(
                16, _("Team"), "sales:team", "orgs", "/sales/team/", team.manages_follow_up
            ),
            navigation.NavEntry(
                17,
                _("Pipeline"),
                "sales:pipeline",
                "pipeline",
                "/sales/pipeline/",
                pipeline.can_see_pipeline,
            ),
        )
