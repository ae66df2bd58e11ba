"""The engine live: facts from the database, actions through the real services, and the runner
that takes the due enrolments every minute.

A step and the enrolment's move past it commit together: a mail step creates its marketing
message (which the mail sweep then sends exactly once) in the same transaction that moves the
lead on. A worker killed in between leaves neither, and the next run does the step again, so
the mail is queued once. A step that raises is tried again with back-off, and after
MAX_ATTEMPTS the enrolment stops as failed, with the error shown on the workflow's page.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.core.bulk import write_columns
from leadloop.core.expressions import indexed
from leadloop.core.retry import backoff_delay
from leadloop.errors import LeadloopError
from leadloop.leads.models import Lead
from leadloop.nurture.workflows.models import (
    Enrollment,
    EnrollmentState,
    EnrollmentStep,
    WorkflowState,
)
from leadloop.nurture.workflows.services.actions import LiveActions
from leadloop.nurture.workflows.services.engine import (
    Moved,
    Position,
    advance,
)
from leadloop.nurture.workflows.services.enrolment import (
    ENROLL_TASK,
    enroll_leads,
    enroll_missed,
    enroll_on_trigger,
    nudge,
    on_lead_events,
    trigger_matches,
)
from leadloop.nurture.workflows.services.facts import LiveFacts
from leadloop.nurture.workflows.services.versions import (
    STAYS,
    actor_for,
    note_on_timeline,
    parsed,
    zone,
)

logger = logging.getLogger(__name__)

__all__ = [
    "BATCH",
    "ENROLL_TASK",
    "MAX_ATTEMPTS",
    "STAYS",
    "LiveActions",
    "LiveFacts",
    "actor_for",
    "due_ids",
    "enroll_leads",
    "enroll_missed",
    "enroll_on_trigger",
    "nudge",
    "on_lead_events",
    "parsed",
    "run_due",
    "trigger_matches",
    "zone",
]

MAX_ATTEMPTS = 6
BATCH = 50  # enrolments per transaction, each in its own savepoint
RUN_LIMIT = 5000  # enrolments one run takes; the next minute's run takes the rest


def _position(enrollment: Enrollment) -> Position:
    return Position(
        step=enrollment.step,
        started_at=enrollment.started_at,
        waiting_since=enrollment.waiting_since,
        wait_until=enrollment.wait_until,
        data=dict(enrollment.data or {}),
    )


def _path_rows(enrollment: Enrollment, path: Iterable[Moved]) -> list[EnrollmentStep]:
    return [
        EnrollmentStep(
            enrollment=enrollment,
            step=moved.step,
            kind=moved.kind,
            outcome=moved.outcome[:40],
            detail=moved.detail[:300],
            at=moved.at,
        )
        for moved in path
    ]


SAVED_FIELDS = [
    "step",
    "waiting_since",
    "wait_until",
    "data",
    "due_at",
    "attempts",
    "error",
    "state",
    "ended_at",
    "outcome",
]


def _step_loaded(
    enrollment: Enrollment, lead: Lead, *, now: dt.datetime
) -> tuple[str, list[EnrollmentStep]]:
    """Run one loaded enrolment as far as it goes now (the caller saves it); what became of it
    and the path rows to write."""
    workflow = enrollment.workflow
    actor = actor_for(workflow.name)
    position = _position(enrollment)
    result = advance(
        parsed(enrollment.version),
        position,
        now=now,
        facts=LiveFacts(lead),
        actions=LiveActions(lead, actor, workflow.name),
        tz=zone(),
    )
    enrollment.step = position.step
    enrollment.waiting_since = position.waiting_since
    enrollment.wait_until = position.wait_until
    enrollment.data = position.data
    enrollment.due_at = result.due_at
    enrollment.attempts = 0
    enrollment.error = ""
    if result.ended:
        enrollment.state = (
            EnrollmentState.FINISHED if result.ended == "finished" else EnrollmentState.EXITED
        )
        enrollment.ended_at = now
        enrollment.outcome = result.outcome[:40]
        if lead.erased_at is None:
            note_on_timeline(
                lead,
                by=actor,
                message=(
                    _("Finished workflow “%(name)s”")
                    if result.ended == "finished"
                    else _("Left workflow “%(name)s” (%(why)s)")
                )
                % {"name": workflow.name, "why": result.outcome},
                data={
                    "workflow_id": workflow.pk,
                    "version": enrollment.version.number,
                    "outcome": result.outcome,
                },
                at=now,
            )
    return result.ended or "waiting", _path_rows(enrollment, result.path)


def _run_batch(ids: list[int], *, now: dt.datetime, counts: dict[str, int]) -> None:
    """One transaction: the batch's enrolments and their leads read and locked at once, each
    enrolment run in a savepoint (one that fails is rolled back alone and tried again later),
    then every enrolment saved with one UPDATE and every path row with one INSERT."""
    failed: list[tuple[int, Exception]] = []
    with transaction.atomic():
        enrollments = [
            e
            for e in Enrollment.objects.select_for_update(of=("self",), skip_locked=True)
            .select_related("version", "workflow")
            .filter(pk__in=ids, state=EnrollmentState.ACTIVE, due_at__lte=now)
            .order_by("id")
            if e.workflow.state != WorkflowState.PAUSED
        ]
        leads = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update()
            .filter(pk__in={e.lead_id for e in enrollments})
            .order_by("pk")
        }
        done: list[Enrollment] = []
        rows: list[EnrollmentStep] = []
        for enrollment in enrollments:
            lead = leads[enrollment.lead_id]
            try:
                with transaction.atomic():
                    outcome, path = _step_loaded(enrollment, lead, now=now)
            except Exception as exc:
                logger.warning("workflow step failed enrollment=%d", enrollment.pk, exc_info=True)
                lead.refresh_from_db()
                failed.append((enrollment.pk, exc))
                counts["error"] = counts.get("error", 0) + 1
                continue
            done.append(enrollment)
            rows += path
            counts[outcome] = counts.get(outcome, 0) + 1
        write_columns(Enrollment, done, SAVED_FIELDS)
        EnrollmentStep.objects.bulk_create(rows)
        for enrollment_id, error in failed:
            _fail(enrollment_id, error, now=now)


def _fail(enrollment_id: int, error: Exception, *, now: dt.datetime) -> None:
    enrollment = Enrollment.objects.filter(pk=enrollment_id).first()
    if enrollment is None:
        return
    attempts = enrollment.attempts + 1
    text = (str(error) if isinstance(error, LeadloopError) else repr(error))[:300]
    if attempts >= MAX_ATTEMPTS:
        Enrollment.objects.filter(pk=enrollment_id).update(
            state=EnrollmentState.FAILED,
            attempts=attempts,
            error=text,
            due_at=None,
            ended_at=now,
            outcome="failed",
        )
        EnrollmentStep.objects.create(
            enrollment_id=enrollment_id,
            step=enrollment.step,
            kind="error",
            outcome="failed",
            detail=text,
            at=now,
        )
    else:
        Enrollment.objects.filter(pk=enrollment_id).update(
            attempts=attempts,
            error=text,
            due_at=now
            + dt.timedelta(seconds=backoff_delay(attempts, base_seconds=60, max_seconds=6 * 3600)),
        )


def due_ids(now: dt.datetime, *, limit: int = RUN_LIMIT) -> list[int]:
    """The enrolments due at `now`, oldest first, read through the `enrollment_due` index."""
    return list(
        Enrollment.objects.filter(indexed(Enrollment, "enrollment_due"), due_at__lte=now)
        .order_by("due_at")
        .values_list("id", flat=True)[:limit]
    )


def run_due(*, at: dt.datetime | None = None, limit: int = RUN_LIMIT) -> dict[str, int]:
    """Every minute: run the due enrolments, BATCH to a transaction (see `_run_batch`)."""
    now = at or timezone.now()
    counts: dict[str, int] = {}
    ids = due_ids(now, limit=limit)
    for start in range(0, len(ids), BATCH):
        _run_batch(ids[start : start + BATCH], now=now, counts=counts)
    return counts
