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
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from leadloop.accounts.actors import SystemActor
from leadloop.accounts.defaults import get_defaults
from leadloop.accounts.models import User
from leadloop.assessment import services as assessment_services
from leadloop.core.bulk import write_columns
from leadloop.core.expressions import indexed
from leadloop.core.retry import backoff_delay, enqueue
from leadloop.errors import Conflict, LeadloopError
from leadloop.leads import services as lead_services
from leadloop.leads.events import EventName, LeadEvent
from leadloop.leads.models import ActivityKind, Lead, LeadStatus
from leadloop.notifications import services as notifications
from leadloop.nurture.mail.models import (
    DeliveryReport,
    MarketingMessage,
    MarketingTemplate,
    MessageState,
    ReportKind,
    TrackingEvent,
    TrackingHit,
    TrackingKind,
)
from leadloop.nurture.mail.services import sending
from leadloop.nurture.surveys.models import ResponseState, SurveyResponse
from leadloop.nurture.workflows.models import (
    Enrollment,
    EnrollmentState,
    EnrollmentStep,
    WorkflowState,
    WorkflowVersion,
)
from leadloop.nurture.workflows.services import definition as definitions
from leadloop.nurture.workflows.services.definition import Condition, Definition, Step
from leadloop.nurture.workflows.services.engine import (
    Moved,
    Position,
    Undecided,
    advance,
    compare,
)

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
BATCH = 50  # enrolments per transaction, each in its own savepoint
RUN_LIMIT = 5000  # enrolments one run takes; the next minute's run takes the rest
# A lead stays in a workflow while marketing qualifies it.
STAYS = frozenset({LeadStatus.NURTURING})


def actor_for(workflow_name: str) -> SystemActor:
    """Who a workflow's steps are done by, as the timeline and the audit log name it."""
    return SystemActor(label=f"workflow {workflow_name}"[:60])


@lru_cache(maxsize=512)
def _parsed(text: str) -> Definition:
    return definitions.parse(json.loads(text))


def parsed(version: WorkflowVersion) -> Definition:
    """The version's definition, parsed once per process for each distinct definition (keyed by
    its text, not its id: a restored or test database reuses ids)."""
    return _parsed(json.dumps(version.definition, sort_keys=True))


def zone() -> ZoneInfo:
    return ZoneInfo(get_defaults().time_zone)


def _answer_matches(answers: Any, condition: Condition) -> bool:
    if condition.question is None:
        return True
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, dict) or answer.get("question_id") != condition.question:
            continue
        value = answer.get("value")
        if condition.answer is None:
            return value not in (None, "", [])
        wanted = str(condition.answer).casefold()
        if isinstance(value, list):
            return wanted in {str(v).casefold() for v in value}
        return str(value).casefold() == wanted
    return False


@dataclass
class LiveFacts:
    """What the database holds about one lead, for the engine's decisions."""

    lead: Lead

    def leaving(self) -> str:
        if self.lead.erased_at is not None:
            return "erased"
        if self.lead.merged_into_id is not None:
            return "merged"
        if self.lead.status not in STAYS:
            return str(self.lead.status)
        return ""

    def field(self, name: str) -> Any:
        return getattr(self.lead, name, None)

    def happened(
        self,
        condition: Condition,
        *,
        since: dt.datetime,
        until: dt.datetime,
        mails_since: dt.datetime,
    ) -> bool:
        event = condition.event
        mails = MarketingMessage.objects.filter(
            lead_id=self.lead.pk, created_at__gte=mails_since
        ).values("id")
        if event in ("opened", "clicked"):
            # Counted hits only: a machine's prefetch or a scanner's click is no engagement.
            counted = TrackingEvent.objects.filter(
                message_id__in=mails, counted=True, at__gte=since, at__lte=until
            )
            waiting = TrackingHit.objects.filter(
                key__in=MarketingMessage.objects.filter(
                    lead_id=self.lead.pk, created_at__gte=mails_since
                ).values("key"),
                at__gte=since,
                at__lte=until,
            )
            if event == "clicked":
                counted = counted.filter(kind=TrackingKind.CLICK)
                waiting = waiting.filter(kind=TrackingKind.CLICK)
            if counted.exists():
                return True
            if waiting.exists():
                # Received in time but not judged yet (human or machine): decide after.
                raise Undecided
            return False
        if event == "bounced":
            return (
                DeliveryReport.objects.filter(
                    message_id__in=mails,
                    kind=ReportKind.HARD_BOUNCE,
                    received_at__gte=since,
                    received_at__lte=until,
                ).exists()
                or MarketingMessage.objects.filter(
                    id__in=mails,
                    state=MessageState.FAILED,
                    changed_at__gte=since,
                    changed_at__lte=until,
                ).exists()
            )
        if event == "unsubscribed":
            opted_out = self.lead.marketing_opt_out_at
            return opted_out is not None and opted_out <= until
        if event == "answered":
            responses = SurveyResponse.objects.filter(
                lead_id=self.lead.pk,
                state=ResponseState.APPLIED,
                submitted_at__gte=since,
                submitted_at__lte=until,
            ).values_list("answers", flat=True)
            return any(_answer_matches(answers, condition) for answers in responses)
        if event == "call_outcome":
            return _call_outcome(self.lead.pk, condition, since=since, until=until)
        return False


def _call_outcome(
    lead_id: int, condition: Condition, *, since: dt.datetime, until: dt.datetime
) -> bool:
    from leadloop.nurture.calls import selectors as calls

    call_list = calls.find_call_list(condition.call_list)
    if call_list is None:
        return False
    found = calls.final_outcome(lead_id, call_list.pk, since)
    if found is None:
        return False
    outcome, at = found
    return at <= until and (not condition.outcomes or outcome in condition.outcomes)


@dataclass
class LiveActions:
    """The real services, as the workflow's actor."""

    lead: Lead
    actor: SystemActor
    workflow_name: str
    messages: list[int] = field(default_factory=list)

    def run(self, step: Step, *, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        return getattr(self, f"_{step.type}")(step, data, now)  # type: ignore[no-any-return]

    def _send_email(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        template = (
            MarketingTemplate.objects.filter(name=step.params["template"], is_active=True)
            .order_by("language")
            .first()
        )
        if template is None:
            raise Conflict(
                _("The template “%(name)s” is missing or not active.")
                % {"name": step.params["template"]}
            )
        if not sending.may_send_to(self.lead):
            # No consent, opted out or suppressed: no mail, and the workflow goes on (a
            # `bounced` or `opened` wait then sees nothing, as it should).
            return "skipped", _("no marketing mail to this lead (no consent or suppressed)")
        if step.type == "send_survey" and template.survey_id is None:
            raise Conflict(_("The template “%(name)s” links no survey.") % {"name": template.name})
        message = sending.send_marketing_email(self.lead, template, by=self.actor, at=now)
        data.setdefault("messages", []).append(message.pk)
        return "queued", template.name

    _send_survey = _send_email

    def _add_to_call_list(
        self, step: Step, data: dict[str, Any], now: dt.datetime
    ) -> tuple[str, str]:
        from leadloop.nurture.calls import selectors as calls
        from leadloop.nurture.calls import services as call_services

        call_list = calls.find_call_list(step.params["call_list"])
        if call_list is None:
            raise Conflict(
                _("The call list “%(name)s” is missing.") % {"name": step.params["call_list"]}
            )
        try:
            entry = call_services.add_to_call_list(
                self.lead,
                call_list,
                by=self.actor,
                due_at=now,
                origin=f"workflow {self.workflow_name}",
                at=now,
            )
        except Conflict as exc:
            return "skipped", str(exc)[:300]
        data.setdefault("call_entries", []).append(entry.pk)
        return "added", call_list.name

    def _set_field(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        name, value = step.params["field"], step.params["value"]
        self.lead = lead_services.update_lead(self.lead, {name: value}, by=self.actor)
        if name.startswith("bant_"):
            assessment_services.reassess_after_edit(self.lead)
            self.lead.refresh_from_db()
        return "set", f"{name} = {value}"[:300]

    def _set_status(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        status = step.params["status"]
        if self.lead.status == status:
            return "unchanged", status
        lead_services.transition(
            self.lead,
            to=status,
            by=self.actor,
            note=_("Workflow “%(name)s”") % {"name": self.workflow_name},
        )
        self.lead.refresh_from_db()
        return "set", status

    def _route_to_sales(
        self, step: Step, data: dict[str, Any], now: dt.datetime
    ) -> tuple[str, str]:
        lead_services.transition(
            self.lead,
            to=LeadStatus.SALES_READY,
            by=self.actor,
            note=_("Workflow “%(name)s”: qualified for sales.") % {"name": self.workflow_name},
        )
        self.lead.refresh_from_db()
        return "routed", ""

    def _disqualify(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        reason = step.params.get("reason") or _("Workflow “%(name)s”") % {
            "name": self.workflow_name
        }
        lead_services.transition(self.lead, to=LeadStatus.DISQUALIFIED, by=self.actor, note=reason)
        self.lead.refresh_from_db()
        return "disqualified", reason[:300]

    def _notify(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        user = User.objects.filter(username=step.params["user"], is_active=True).first()
        if user is None:
            return "skipped", _("no active user “%(name)s”") % {"name": step.params["user"]}
        notifications.notify(
            [user],
            kind="workflow",
            title=gettext_noop("Workflow %(workflow)s: %(lead)s"),
            body=gettext_noop("%(message)s"),
            params={
                "workflow": self.workflow_name,
                "lead": self.lead.full_name or f"#{self.lead.pk}",
                "message": step.params.get("message") or "",
            },
            url=f"/leads/{self.lead.pk}/",
            lead_id=self.lead.pk,
        )
        return "notified", user.username


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


def _timeline(
    lead: Lead, *, by: SystemActor, message: str, data: dict[str, Any], at: dt.datetime
) -> None:
    lead_services.record_activity(
        lead, kind=ActivityKind.WORKFLOW, by=by, message=message, data=data, at=at
    )


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
            _timeline(
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


def trigger_matches(definition: Definition, lead: Lead) -> bool:
    trigger = definition.trigger
    if trigger.sources and lead.source_id not in trigger.sources:
        return False
    return all(compare(c, getattr(lead, c.field, None)) for c in trigger.conditions)


def enroll_leads(
    workflow_version: WorkflowVersion,
    leads: Iterable[Lead],
    *,
    by: str,
    now: dt.datetime,
) -> list[int]:
    """Put leads into a version of a workflow (once per lead and workflow); the ids enrolled."""
    workflow = workflow_version.workflow
    definition = parsed(workflow_version)
    rows = [
        Enrollment(
            workflow=workflow,
            version=workflow_version,
            lead=lead,
            step=definition.first,
            due_at=now,
            started_at=now,
            enrolled_by=by[:120],
        )
        for lead in leads
        if lead.status in STAYS and lead.erased_at is None and lead.merged_into_id is None
    ]
    if not rows:
        return []
    already = set(
        Enrollment.objects.filter(
            workflow=workflow, lead_id__in=[row.lead_id for row in rows]
        ).values_list("lead_id", flat=True)
    )
    fresh = [row for row in rows if row.lead_id not in already]
    Enrollment.objects.bulk_create(fresh, ignore_conflicts=True)
    actor = actor_for(workflow.name)
    by_id = {row.lead_id: row for row in fresh}
    for lead in leads:
        if lead.pk in by_id:
            _timeline(
                lead,
                by=actor,
                message=_("Entered workflow “%(name)s”") % {"name": workflow.name},
                data={"workflow_id": workflow.pk, "version": workflow_version.number, "by": by},
                at=now,
            )
    return [row.lead_id for row in fresh]


def enroll_on_trigger(lead_ids: list[int], *, on: str, now: dt.datetime | None = None) -> int:
    """Leads that became nurturing (or were created): enrol each in every active workflow whose
    trigger fits. Safe to run twice: a lead enters a workflow once."""
    from leadloop.nurture.workflows.models import Workflow

    now = now or timezone.now()
    total = 0
    workflows = Workflow.objects.filter(state=WorkflowState.ACTIVE).select_related("active_version")
    for workflow in workflows:
        version = workflow.active_version
        if version is None:
            continue
        definition = parsed(version)
        if definition.trigger.on != on:
            continue
        leads = [
            lead
            for lead in Lead.objects.filter(pk__in=lead_ids, status__in=STAYS)
            if trigger_matches(definition, lead)
        ]
        with transaction.atomic():
            total += len(
                enroll_leads(version, leads, by=str(_("trigger: %(on)s") % {"on": on}), now=now)
            )
    return total


def enroll_missed(
    *, now: dt.datetime | None = None, window: dt.timedelta = dt.timedelta(hours=2)
) -> int:
    """Catch up on leads whose trigger event was lost (a crash after the commit, before the
    task was queued): nurturing leads changed within `window` that are not in the workflows
    their trigger fits."""
    now = now or timezone.now()
    ids = list(
        Lead.objects.filter(status__in=STAYS, updated_at__gte=now - window).values_list(
            "id", flat=True
        )[:20000]
    )
    total = 0
    for start in range(0, len(ids), 1000):
        total += enroll_on_trigger(ids[start : start + 1000], on="nurturing", now=now)
    return total


def nudge(lead_id: int) -> None:
    """A lead did something (opened, answered, bounced, a call ended): its waiting enrolments
    are looked at now instead of at their deadline. A plain `wait` just sleeps on."""
    now = timezone.now()
    Enrollment.objects.filter(lead_id=lead_id, state=EnrollmentState.ACTIVE, due_at__gt=now).update(
        due_at=now
    )


ENROLL_TASK = "leadloop.nurture.workflows.tasks.enroll_task"


def on_lead_events(batch: Sequence[LeadEvent]) -> None:
    """Leads created or moved to nurturing: queue their enrolment (the task decides which
    workflows' triggers fit). Nothing is queued while no workflow is active."""
    nurturing = [
        e.lead_id
        for e in batch
        if (e.name == EventName.STATUS_CHANGED and e.data.get("to") == LeadStatus.NURTURING)
        or (e.name == EventName.LEAD_CREATED and e.data.get("status") == LeadStatus.NURTURING)
    ]
    created = [e.lead_id for e in batch if e.name == EventName.LEAD_CREATED]
    if not (nurturing or created):
        return
    from leadloop.nurture.workflows.models import Workflow

    if not Workflow.objects.filter(state=WorkflowState.ACTIVE).exists():
        return
    for on, ids in (("nurturing", nurturing), ("created", created)):
        for start in range(0, len(ids), 1000):
            try:
                enqueue(ENROLL_TASK, lead_ids=ids[start : start + 1000], on=on)
            except Exception:
                # The ten-minute catch-up (enroll_missed) enrols them.
                logger.exception("could not queue workflow enrolment of %d leads", len(ids))
