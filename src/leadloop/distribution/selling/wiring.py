"""What the lead market registers when the distribution app is ready: its schedule and menu."""

from __future__ import annotations


def register() -> None:
    from datetime import timedelta

    from django.utils.translation import gettext_lazy as _

    from leadloop.core import navigation, schedule
    from leadloop.distribution.selling import selectors

    schedule.register(
        schedule.PeriodicSpec(
            "recover_sales",
            timedelta(minutes=1),
            "leadloop.distribution.selling.tasks.recover_sales_task",
        ),
        schedule.PeriodicSpec(
            "send_buyer_batches",
            timedelta(hours=1),
            "leadloop.distribution.selling.tasks.send_buyer_batches_task",
        ),
        schedule.PeriodicSpec(
            "prune_delivery_log",
            timedelta(days=1),
            "leadloop.distribution.selling.tasks.prune_delivery_log_task",
        ),
    )
    navigation.register(
        navigation.NavEntry(
            77,
            _("Lead buyers"),
            "selling:buyers",
            "campaigns",
            "/selling/",
            selectors.can_manage,
            badge="leadloop.distribution.selling.selectors.count_waiting_returns",
            badge_label=_("returns to decide"),
        ),
        navigation.NavEntry(
            11,
            _("Bought leads"),
            "selling:portal",
            "leads",
            "/selling/portal/",
            selectors.is_buyer_user,
        ),
    )
