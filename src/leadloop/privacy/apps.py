from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "leadloop.privacy"
    label = "privacy"
    verbose_name = "Privacy"

    def ready(self) -> None:
        from datetime import timedelta

        from django.utils.translation import gettext_lazy as _

        from leadloop.accounts.selectors import can_manage_configuration
        from leadloop.core import navigation, schedule

        schedule.register(
            schedule.PeriodicSpec(
                "apply_retention",
                timedelta(hours=24),
                "leadloop.privacy.tasks.apply_retention_task",
            ),
        )
        navigation.register(
            navigation.NavEntry(
                130,
                _("Privacy"),
                "privacy:requests",
                "leads",
                "/privacy/",
                can_manage_configuration,
            ),
        )
