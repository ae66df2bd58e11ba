from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leadloop.intake"
    label = "intake"
    verbose_name = "Intake"

    def ready(self) -> None:
        from datetime import timedelta

        from django.utils.translation import gettext_lazy as _

        from leadloop.accounts.selectors import can_manage_configuration
        from leadloop.core import navigation, schedule
        from leadloop.core.navigation import NavEntry
        from leadloop.core.schedule import PeriodicSpec
        from leadloop.leads import entry

        schedule.register(
            PeriodicSpec(
                "process_orphaned_submissions",
                timedelta(minutes=1),
                "leadloop.intake.tasks.process_orphans_task",
            ),
            PeriodicSpec(
                "poll_feeds", timedelta(minutes=10), "leadloop.intake.tasks.poll_feeds_task"
            ),
            PeriodicSpec("poll_ftp", timedelta(minutes=5), "leadloop.intake.tasks.poll_ftp_task"),
            PeriodicSpec(
                "poll_imap", timedelta(minutes=2), "leadloop.intake.tasks.poll_imap_sources_task"
            ),
        )
        config = can_manage_configuration
        navigation.register(
            NavEntry(40, _("Forms"), "intake:form-list", "sources", "/forms/", config),
            NavEntry(
                60,
                _("Intake"),
                "intake:submission-list",
                "intake",
                "/intake/",
                config,
                badge="leadloop.intake.selectors.count_needing_review",
            ),
            NavEntry(70, _("Imports"), "intake:import-list", "sources", "/intake/imports/", config),
        )
        # A source key's POST /api/v1/leads takes the intake; the endpoint lives in leads.
        entry.register(submit_as_source="leadloop.intake.api.submit_lead_as_source")
