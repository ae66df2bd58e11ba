from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "leadloop.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from datetime import timedelta

        from django.utils.translation import gettext_lazy as _

        from leadloop.core import navigation, schedule

        schedule.register(
            schedule.PeriodicSpec(
                "send_notification_mail",
                timedelta(minutes=1),
                "leadloop.notifications.tasks.send_pending_task",
            ),
            schedule.PeriodicSpec(
                "send_notification_digests",
                timedelta(hours=1),
                "leadloop.notifications.tasks.send_digests_task",
            ),
        )
        navigation.register(
            navigation.NavEntry(
                5,
                _("Notifications"),
                "notifications:list",
                "intake",
                "/notifications/",
                navigation.everyone,
                badge="leadloop.notifications.selectors.count_unread",
                badge_label=_("unread"),
            ),
        )
