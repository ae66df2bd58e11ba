from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "leadloop.assessment"
    label = "assessment"
    verbose_name = "Assessment"

    def ready(self) -> None:
        from datetime import timedelta

        from django.utils.translation import gettext_lazy as _

        from leadloop.accounts.selectors import can_manage_configuration, is_staff_role
        from leadloop.core import navigation, schedule
        from leadloop.core.navigation import NavEntry
        from leadloop.core.schedule import PeriodicSpec
        from leadloop.leads import entry

        schedule.register(
            PeriodicSpec(
                "refresh_scores",
                timedelta(hours=1),
                "leadloop.assessment.tasks.refresh_scores_task",
            ),
            PeriodicSpec(
                "assess_pending",
                timedelta(minutes=1),
                "leadloop.assessment.tasks.assess_pending_task",
            ),
        )
        config = can_manage_configuration
        navigation.register(
            NavEntry(
                80,
                _("Review"),
                "assessment:review-list",
                "intake",
                "/assessment/review/",
                is_staff_role,
                badge="leadloop.assessment.review.selectors.count_held_leads",
            ),
            NavEntry(
                90,
                _("Duplicates"),
                "assessment:duplicate-list",
                "leads",
                "/assessment/duplicates/",
                is_staff_role,
            ),
            NavEntry(
                100, _("Scoring"), "assessment:config", "campaigns", "/assessment/config/", config
            ),
            NavEntry(
                110,
                _("Enrichment"),
                "assessment:enrichment-list",
                "sources",
                "/assessment/enrichment/",
                config,
            ),
            NavEntry(
                120,
                _("Predictive model"),
                "assessment:model-list",
                "campaigns",
                "/assessment/models/",
                config,
            ),
        )
        # The lead form and POST /api/v1/leads (in leads) assess what a person typed; a status
        # move (leads.services.transition) takes the priority again, in its own save.
        entry.register(
            create_lead="leadloop.assessment.services.create_lead",
            reassess_after_edit="leadloop.assessment.services.reassess_after_edit",
            rescore_after_status_change="leadloop.assessment.priority.rescore_after_status_change",
        )
