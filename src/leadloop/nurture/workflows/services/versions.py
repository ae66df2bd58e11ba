"""What the workflow runner, the enrolment and the actions share: a version's parsed steps
(cached), the organisation's time zone, the workflow's actor and its timeline note."""

from __future__ import annotations

import datetime as dt
import json
import logging
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from leadloop.accounts.actors import SystemActor
from leadloop.accounts.defaults import get_defaults
from leadloop.leads import services as lead_services
from leadloop.leads.models import ActivityKind, Lead, LeadStatus
from leadloop.nurture.workflows.models import (
    WorkflowVersion,
)
from leadloop.nurture.workflows.services import definition as definitions
from leadloop.nurture.workflows.services.definition import Definition

logger = logging.getLogger(__name__)


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


def note_on_timeline(
    lead: Lead, *, by: SystemActor, message: str, data: dict[str, Any], at: dt.datetime
) -> None:
    lead_services.record_activity(
        lead, kind=ActivityKind.WORKFLOW, by=by, message=message, data=data, at=at
    )
