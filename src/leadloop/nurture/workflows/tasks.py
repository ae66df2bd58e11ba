"""Background work of workflows; each task calls one service."""

from __future__ import annotations

from leadloop.core.retry import retrying_task
from leadloop.nurture.workflows.services import live


@retrying_task(max_attempts=3)
def run_workflow_steps_task() -> int:
    """Every minute: the steps now due (waits ended, deadlines passed, leads nudged)."""
    return sum(live.run_due().values())


@retrying_task(max_attempts=5)
def enroll_task(lead_ids: list[int], on: str) -> int:
    """Leads whose trigger event happened: enrol them where an active workflow's trigger fits."""
    return live.enroll_on_trigger(lead_ids, on=on)


@retrying_task(max_attempts=3)
def enroll_missed_task() -> int:
    """Every ten minutes: nurturing leads whose enrolment task was lost."""
    return live.enroll_missed()
