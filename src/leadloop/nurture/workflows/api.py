"""/api/v1/nurture/workflows: workflows as data (marketing, admins) — create, save a definition
(a new version once one was active), activate, pause, simulate, enrol leads, and read where
leads are and the path each took."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.core.schemas import StrictIn as In
from leadloop.nurture.workflows import selectors
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.models import Enrollment, Workflow, WorkflowVersion

router = Router()


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


class VersionOut(Schema):
    number: int
    definition: dict[str, Any]
    note: str
    created_at: dt.datetime
    activated_at: dt.datetime | None


class WorkflowOut(Schema):
    id: int
    name: str
    description: str
    state: str
    active_version: int | None
    latest_version: VersionOut
    leads: dict[str, int] = Field(description="Leads by enrolment state")


class WorkflowIn(In):
    name: str = Field(..., max_length=120)
    description: str = Field("", max_length=2000)
    definition: dict[str, Any] | None = Field(
        None, description="Trigger and steps; see docs/nurture.md. Empty: from `template`."
    )
    template: Literal["brochure-follow-up"] | None = None


class WorkflowPatch(In):
    name: str | None = Field(None, max_length=120)
    description: str | None = Field(None, max_length=2000)


class DefinitionIn(In):
    definition: dict[str, Any]
    note: str = Field("", max_length=200)


class ScenarioIn(In):
    name: str = Field(..., max_length=80)
    events: str = Field("", max_length=1000, description='e.g. "opened@2 answered:12=a-quote@3"')


class SimulateIn(In):
    definition: dict[str, Any] | None = Field(None, description="Default: the latest version")
    scenarios: list[ScenarioIn] = Field(default_factory=list, max_length=100)
    sample: int = Field(0, ge=0, le=500, description="Real nurturing leads that fit the trigger")
    lead_ids: list[int] = Field(default_factory=list, max_length=500)
    sample_events: str = Field("", max_length=1000, description="What the real leads do")
    start: dt.datetime | None = None


class MovedOut(Schema):
    step: str
    kind: str
    outcome: str
    detail: str
    at: dt.datetime


class LeadRunOut(Schema):
    label: str
    lead_id: int | None
    ended: str
    outcome: str
    at_step: str
    path: list[MovedOut]


class BranchCount(Schema):
    step: str
    outcome: str
    leads: int


class SimulationOut(Schema):
    runs: list[LeadRunOut]
    branches: list[BranchCount]
    endings: dict[str, int]


class EnrollIn(In):
    lead_ids: list[int] = Field(..., max_length=10000)


class EnrollOut(Schema):
    enrolled: int
    skipped: int


class EnrollmentOut(Schema):
    id: int
    lead_id: int
    version: int
    state: str
    step: str
    due_at: dt.datetime | None
    started_at: dt.datetime
    ended_at: dt.datetime | None
    outcome: str
    error: str
    path: list[MovedOut] | None = None


def _version(v: WorkflowVersion) -> dict[str, Any]:
    return {
        "number": v.number,
        "definition": v.definition,
        "note": v.note,
        "created_at": v.created_at,
        "activated_at": v.activated_at,
    }


def _workflow(actor: Actor, w: Workflow) -> dict[str, Any]:
    return {
        "id": w.pk,
        "name": w.name,
        "description": w.description,
        "state": w.state,
        "active_version": w.active_version.number if w.active_version else None,
        "latest_version": _version(selectors.latest_version(actor, w)),
        "leads": selectors.counts_by_state(actor, w),
    }


def _enrollment(e: Enrollment, *, path: bool = False) -> dict[str, Any]:
    return {
        "id": e.pk,
        "lead_id": e.lead_id,
        "version": e.version.number,
        "state": e.state,
        "step": e.step,
        "due_at": e.due_at,
        "started_at": e.started_at,
        "ended_at": e.ended_at,
        "outcome": e.outcome,
        "error": e.error,
        "path": [
            {"step": m.step, "kind": m.kind, "outcome": m.outcome, "detail": m.detail, "at": m.at}
            for m in selectors.path_of(e)
        ]
        if path
        else None,
    }


def _get(request: HttpRequest, workflow_id: int) -> Workflow:
    return selectors.get_workflow_for(_actor(request), workflow_id)


@router.get("", response=list[WorkflowOut], url_name="nurture-workflows")
def list_workflows(request: HttpRequest) -> list[dict[str, Any]]:
    """Every workflow with its latest version and its leads by state (marketing, admins)."""
    actor = _actor(request)
    return [_workflow(actor, w) for w in selectors.list_workflows(actor)]


@router.post("", response={201: WorkflowOut}, url_name="nurture-workflow-add")
def create_workflow(request: HttpRequest, payload: WorkflowIn) -> Status:
    """Create a draft workflow from a definition, or from the ready brochure template."""
    actor = _actor(request)
    if payload.definition is None:
        made = workflows.create_from_template(
            by=actor, template=payload.template or "brochure-follow-up", name=payload.name
        )
    else:
        made = workflows.create_workflow(
            by=actor,
            name=payload.name,
            description=payload.description,
            definition=payload.definition,
        )
    return Status(201, _workflow(actor, made))


@router.get("/{workflow_id}", response=WorkflowOut, url_name="nurture-workflow")
def get_workflow(request: HttpRequest, workflow_id: int) -> dict[str, Any]:
    """One workflow."""
    return _workflow(_actor(request), _get(request, workflow_id))


@router.patch("/{workflow_id}", response=WorkflowOut, url_name="nurture-workflow-update")
def update_workflow(
    request: HttpRequest, workflow_id: int, payload: WorkflowPatch
) -> dict[str, Any]:
    """Rename a workflow or change its description."""
    actor = _actor(request)
    workflow = _get(request, workflow_id)
    workflows.rename_workflow(
        workflow,
        by=actor,
        name=payload.name if payload.name is not None else workflow.name,
        description=payload.description
        if payload.description is not None
        else workflow.description,
    )
    return _workflow(actor, _get(request, workflow_id))


@router.put(
    "/{workflow_id}/definition", response=VersionOut, url_name="nurture-workflow-definition"
)
def save_definition(
    request: HttpRequest, workflow_id: int, payload: DefinitionIn
) -> dict[str, Any]:
    """Save a trigger and steps: into the draft, or as a new version when the latest was active.
    422 names the step at fault (unreachable, a loop without a wait, a branch without an exit)."""
    version = workflows.save_definition(
        _get(request, workflow_id),
        by=_actor(request),
        definition=payload.definition,
        note=payload.note,
    )
    return _version(version)


@router.get(
    "/{workflow_id}/versions", response=list[VersionOut], url_name="nurture-workflow-versions"
)
def list_versions(request: HttpRequest, workflow_id: int) -> list[dict[str, Any]]:
    """Every version, newest first."""
    actor = _actor(request)
    return [_version(v) for v in selectors.list_versions(actor, _get(request, workflow_id))]


@router.post("/{workflow_id}/activate", response=WorkflowOut, url_name="nurture-workflow-activate")
def activate(request: HttpRequest, workflow_id: int) -> dict[str, Any]:
    """New leads enter the latest version; 422 when a template, call list or user it names is
    missing."""
    actor = _actor(request)
    workflow = _get(request, workflow_id)
    workflows.activate(workflow, by=actor)
    return _workflow(actor, _get(request, workflow_id))


@router.post("/{workflow_id}/pause", response=WorkflowOut, url_name="nurture-workflow-pause")
def pause(request: HttpRequest, workflow_id: int) -> dict[str, Any]:
    """No lead enters and no step runs until the workflow is activated again."""
    actor = _actor(request)
    workflows.pause(_get(request, workflow_id), by=actor)
    return _workflow(actor, _get(request, workflow_id))


@router.post(
    "/{workflow_id}/simulate", response=SimulationOut, url_name="nurture-workflow-simulate"
)
def simulate(request: HttpRequest, workflow_id: int, payload: SimulateIn) -> dict[str, Any]:
    """Run the workflow on a simulated clock: one hypothetical lead per scenario and/or real
    nurturing leads; each lead's path and the count per branch. Nothing is sent or saved."""
    actor = _actor(request)
    workflow = _get(request, workflow_id)
    definition = payload.definition or selectors.latest_version(actor, workflow).definition
    result = workflows.simulate_workflow(
        by=actor,
        definition=definition,
        scenarios=[(s.name, s.events) for s in payload.scenarios],
        sample=payload.sample,
        lead_ids=payload.lead_ids,
        sample_scenario=payload.sample_events,
        start=payload.start,
    )
    return {
        "runs": [
            {
                "label": r.label,
                "lead_id": r.lead_id,
                "ended": r.ended,
                "outcome": r.outcome,
                "at_step": r.at_step,
                "path": [m.__dict__ for m in r.path],
            }
            for r in result.runs
        ],
        "branches": [
            {"step": step, "outcome": outcome, "leads": n}
            for (step, outcome), n in sorted(result.branches.items())
        ],
        "endings": result.endings,
    }


@router.post("/{workflow_id}/enrollments", response=EnrollOut, url_name="nurture-workflow-enroll")
def enroll(request: HttpRequest, workflow_id: int, payload: EnrollIn) -> dict[str, int]:
    """Enrol nurturing leads you may see by hand; others and those in it already are skipped."""
    return workflows.enroll(_get(request, workflow_id), payload.lead_ids, by=_actor(request))


@router.get(
    "/{workflow_id}/enrollments",
    response=list[EnrollmentOut],
    url_name="nurture-workflow-enrollments",
)
def list_enrollments(
    request: HttpRequest, workflow_id: int, state: str = "", limit: int = 50
) -> list[dict[str, Any]]:
    """The latest enrolments of leads you may see (state: active, finished, exited, failed)."""
    actor = _actor(request)
    found = selectors.list_enrollments(
        actor, _get(request, workflow_id), state=state, limit=max(1, min(limit, 500))
    )
    return [_enrollment(e) for e in found]


@router.get(
    "/{workflow_id}/enrollments/{enrollment_id}",
    response=EnrollmentOut,
    url_name="nurture-workflow-enrollment",
)
def get_enrollment(request: HttpRequest, workflow_id: int, enrollment_id: int) -> dict[str, Any]:
    """One lead's enrolment with the path it took."""
    actor = _actor(request)
    enrollment = selectors.get_enrollment_for(actor, _get(request, workflow_id), enrollment_id)
    return _enrollment(enrollment, path=True)
