"""What the workflows capability registers when the app is ready (schedule, navigation, events)."""

from __future__ import annotations

from typing import Any


def can_manage_workflows(user: Any) -> bool:
    from leadloop.accounts.permissions import Permission, can

    return can(user, Permission.MANAGE_NURTURE)


def register() -> None:
    from datetime import timedelta

    from django.utils.translation import gettext_lazy as _

    from leadloop.core import navigation, schedule
    from leadloop.leads import events
    from leadloop.nurture import engagement
    from leadloop.nurture.workflows.services import live

    for name in (events.EventName.LEAD_CREATED, events.EventName.STATUS_CHANGED):
        events.subscribe(name, live.on_lead_events)
    engagement.listen(live.nudge)
    schedule.register(
        schedule.PeriodicSpec(
            "run_workflow_steps",
            timedelta(minutes=1),
            "leadloop.nurture.workflows.tasks.run_workflow_steps_task",
        ),
        schedule.PeriodicSpec(
            "enroll_missed_workflow_leads",
            timedelta(minutes=10),
            "leadloop.nurture.workflows.tasks.enroll_missed_task",
        ),
    )
    navigation.register(
        navigation.NavEntry(
            56,
            _("Workflows"),
            "nurture:workflow-list",
            "campaigns",
            "/nurture/workflows/",
            can_manage_workflows,
        )
    )
