"""Leads entering workflows: by their trigger (after a lead event), by hand, or caught up when
the enrolment task was lost; and the nudge that makes a waiting lead look again."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.core.retry import enqueue
from leadloop.leads.events import EventName, LeadEvent
from leadloop.leads.models import Lead, LeadStatus
from leadloop.nurture.workflows.models import (
    Enrollment,
    EnrollmentState,
    WorkflowState,
    WorkflowVersion,
)
from leadloop.nurture.workflows.services.definition import Definition
from leadloop.nurture.workflows.services.engine import (
    compare,
)
from leadloop.nurture.workflows.services.versions import (
    STAYS,
    actor_for,
    note_on_timeline,
    parsed,
)

logger = logging.getLogger(__name__)


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
            note_on_timeline(
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
