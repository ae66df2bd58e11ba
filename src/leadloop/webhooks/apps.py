from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "leadloop.webhooks"
    label = "webhooks"
    verbose_name = "Webhooks"

    def ready(self) -> None:
        from datetime import timedelta

        from django.utils.translation import gettext_lazy as _

        from leadloop.core import navigation, schedule
        from leadloop.webhooks.selectors import can_manage_webhooks

        schedule.register(
            schedule.PeriodicSpec(
                "send_webhooks", timedelta(minutes=1), "leadloop.webhooks.tasks.send_due_task"
            ),
            schedule.PeriodicSpec(
                "prune_webhook_log", timedelta(hours=24), "leadloop.webhooks.tasks.prune_log_task"
            ),
        )
        navigation.register(
            navigation.NavEntry(
                145, _("Webhooks"), "webhooks:list", "intake", "/webhooks/", can_manage_webhooks
            ),
        )
