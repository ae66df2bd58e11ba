"""What the mail capability registers when the app is ready (schedule, navigation, events)."""

from __future__ import annotations


def register() -> None:
    from datetime import timedelta

    from django.utils.translation import gettext_lazy as _

    from leadloop.core import navigation, schedule
    from leadloop.nurture.mail.selectors import can_manage_mail
    from leadloop.nurture.mail.services import privacy
    from leadloop.privacy.registry import PersonDataSection, register_section

    register_section(
        PersonDataSection("marketing_mail", export=privacy.export_for, erase=privacy.erase_for)
    )

    schedule.register(
        schedule.PeriodicSpec(
            "send_marketing_mail",
            timedelta(minutes=1),
            "leadloop.nurture.mail.tasks.send_marketing_waiting_task",
        ),
        schedule.PeriodicSpec(
            "process_tracking_hits",
            timedelta(minutes=1),
            "leadloop.nurture.mail.tasks.process_tracking_hits_task",
        ),
        schedule.PeriodicSpec(
            "read_bounce_mailbox",
            timedelta(minutes=2),
            "leadloop.nurture.mail.tasks.read_bounce_mailbox_task",
        ),
    )
    navigation.register(
        navigation.NavEntry(
            55,
            _("Marketing mail"),
            "nurture:mail-templates",
            "campaigns",
            "/nurture/mail/",
            can_manage_mail,
        )
    )
