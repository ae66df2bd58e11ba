"""Marketing's verbs on workflows: create, edit (a new version once one was active), activate,
pause, enrol leads by hand, and simulate before activating.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import lead_visibility
from leadloop.errors import Conflict, ValidationFailed
from leadloop.leads.models import Lead, LeadStatus
from leadloop.nurture.mail.models import MarketingTemplate
from leadloop.nurture.workflows.models import (
    Workflow,
    WorkflowState,
    WorkflowVersion,
)
from leadloop.nurture.workflows.services import definition as definitions
from leadloop.nurture.workflows.services import live, simulate
from leadloop.nurture.workflows.services.definition import Definition


def _check(by: Actor) -> None:
    require(by, Permission.MANAGE_NURTURE, _("Only marketing and admins manage workflows."))


def _user(by: Actor) -> User | None:
    return by if isinstance(by, User) else None


def _clean_name(name: str) -> str:
    text = str(name or "").strip()
    if not text or len(text) > 120 or "\x00" in text:
        raise ValidationFailed(
            _("A workflow needs a name of at most 120 characters."),
            errors={"name": [_("Required.")]},
        )
    return text


def check_names(definition: Definition) -> None:
    """Refuse, naming the step, a template, call list or user that does not exist."""
    templates = set(
        MarketingTemplate.objects.filter(
            name__in=definition.names("template"), is_active=True
        ).values_list("name", flat=True)
    )
    users = set(
        User.objects.filter(username__in=definition.names("user"), is_active=True).values_list(
            "username", flat=True
        )
    )
    lists = _call_lists(definition.names("call_list"))
    for step in definition.steps:
        missing = ""
        template = step.params.get("template")
        if template and template not in templates:
            missing = _("there is no active e-mail template “%(name)s”.") % {"name": template}
        elif step.type == "send_survey" and template:
            linked = MarketingTemplate.objects.filter(
                name=template, is_active=True, survey__isnull=False
            ).exists()
            if not linked:
                missing = _("the template “%(name)s” links no survey.") % {"name": template}
        call_list = step.params.get("call_list") or (
            step.condition.call_list if step.condition else ""
        )
        if call_list and call_list not in lists:
            missing = _("there is no call list “%(name)s”.") % {"name": call_list}
        user = step.params.get("user")
        if user and user not in users:
            missing = _("there is no active user “%(name)s”.") % {"name": user}
        if missing:
            text = _("Step “%(step)s”: %(message)s") % {"step": step.id, "message": missing}
            raise ValidationFailed(text, errors={"definition": [text]})


def _call_lists(names: set[str]) -> set[str]:
    if not names:
        return set()
    from leadloop.nurture.calls import selectors as calls

    return {name for name in names if calls.find_call_list(name) is not None}


@transaction.atomic
def create_workflow(
    *, by: Actor, name: str, definition: Mapping[str, Any], description: str = ""
) -> Workflow:
    """A new workflow in draft, its definition as version 1."""
    _check(by)
    parsed = definitions.parse(definition)
    now = timezone.now()
    try:
        with transaction.atomic():
            workflow = Workflow.objects.create(
                name=_clean_name(name),
                description=str(description or "")[:2000],
                created_by=_user(by),
                created_at=now,
                updated_at=now,
            )
    except IntegrityError:
        raise Conflict(_("A workflow with this name exists.")) from None
    WorkflowVersion.objects.create(
        workflow=workflow,
        number=1,
        definition=definitions.as_json(parsed),
        created_by=_user(by),
        created_at=now,
    )
    return workflow


def latest_version(workflow: Workflow) -> WorkflowVersion:
    return WorkflowVersion.objects.filter(workflow=workflow).order_by("-number").first()  # type: ignore[return-value]


@transaction.atomic
def save_definition(
    workflow: Workflow, *, by: Actor, definition: Mapping[str, Any], note: str = ""
) -> WorkflowVersion:
    """Save new steps: into the draft version, or as a new version when the latest has been
    active (leads already in it keep it; `activate` moves new leads to the new one)."""
    _check(by)
    parsed = definitions.parse(definition)
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    latest = latest_version(locked)
    stored = definitions.as_json(parsed)
    now = timezone.now()
    if latest.activated_at is None:
        latest.definition = stored
        latest.note = str(note or "")[:200]
        latest.created_at = now
        latest.save(update_fields=["definition", "note", "created_at"])
        version = latest
    else:
        version = WorkflowVersion.objects.create(
            workflow=locked,
            number=latest.number + 1,
            definition=stored,
            note=str(note or "")[:200],
            created_by=_user(by),
            created_at=now,
        )
    Workflow.objects.filter(pk=locked.pk).update(updated_at=now)
    return version


@transaction.atomic
def rename_workflow(workflow: Workflow, *, by: Actor, name: str, description: str) -> Workflow:
    _check(by)
    workflow.name = _clean_name(name)
    workflow.description = str(description or "")[:2000]
    workflow.updated_at = timezone.now()
    try:
        with transaction.atomic():
            workflow.save(update_fields=["name", "description", "updated_at"])
    except IntegrityError:
        raise Conflict(_("A workflow with this name exists.")) from None
    return workflow


@transaction.atomic
def activate(workflow: Workflow, *, by: Actor) -> WorkflowVersion:
    """Make the latest version the one new leads enter, after checking that every template,
    call list and user it names exists; the workflow starts (or resumes) running."""
    _check(by)
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    version = latest_version(locked)
    check_names(definitions.parse(version.definition))
    now = timezone.now()
    if version.activated_at is None:
        version.activated_at = now
        version.save(update_fields=["activated_at"])
    locked.active_version = version
    locked.state = WorkflowState.ACTIVE
    locked.updated_at = now
    locked.save(update_fields=["active_version", "state", "updated_at"])
    workflow.refresh_from_db()
    return version


@transaction.atomic
def pause(workflow: Workflow, *, by: Actor) -> Workflow:
    """No new leads enter and no step runs until it is activated again (waits keep their
    times: a lead whose wait ended while paused goes on when the workflow resumes)."""
    _check(by)
    if workflow.state != WorkflowState.ACTIVE:
        raise Conflict(_("Only an active workflow can be paused."))
    Workflow.objects.filter(pk=workflow.pk).update(
        state=WorkflowState.PAUSED, updated_at=timezone.now()
    )
    workflow.refresh_from_db()
    return workflow


def enroll(workflow: Workflow, lead_ids: Sequence[int], *, by: Actor) -> dict[str, int]:
    """Put leads the actor may see into the active version by hand: nurturing leads not in the
    workflow yet enter; the rest are counted as skipped."""
    _check(by)
    if workflow.state != WorkflowState.ACTIVE or workflow.active_version_id is None:
        raise Conflict(_("Activate the workflow before enrolling leads."))
    ids = list(dict.fromkeys(int(i) for i in lead_ids))[:10000]
    leads = list(Lead.objects.filter(lead_visibility(by), pk__in=ids, status=LeadStatus.NURTURING))
    version = WorkflowVersion.objects.select_related("workflow").get(pk=workflow.active_version_id)
    label = by.username if isinstance(by, User) else str(getattr(by, "label", "system"))
    with transaction.atomic():
        entered = live.enroll_leads(version, leads, by=label, now=timezone.now())
    return {"enrolled": len(entered), "skipped": len(ids) - len(entered)}


def simulate_workflow(
    *,
    by: Actor,
    definition: Mapping[str, Any],
    scenarios: Sequence[tuple[str, str]] = (),
    sample: int = 0,
    lead_ids: Sequence[int] = (),
    sample_scenario: str = "",
    start: dt.datetime | None = None,
) -> simulate.Simulation:
    """Run a definition on a simulated clock: one hypothetical lead per scenario (name, events),
    and/or real nurturing leads the actor may see (the ids given, or a sample of up to `sample`
    that fit the trigger), each doing what `sample_scenario` says. Nothing is sent or written."""
    _check(by)
    parsed = definitions.parse(definition)
    parsed_scenarios = [simulate.parse_scenario(name, text) for name, text in scenarios]
    sim_leads = simulate.scenario_leads(parsed_scenarios, {})
    if lead_ids or sample:
        query = Lead.objects.filter(lead_visibility(by), status=LeadStatus.NURTURING)
        if lead_ids:
            rows = list(query.filter(pk__in=list(lead_ids)[: simulate.MAX_LEADS]))
        else:
            if parsed.trigger.sources:
                query = query.filter(source_id__in=parsed.trigger.sources)
            wanted = min(int(sample), simulate.MAX_LEADS)
            rows = [
                lead
                for lead in query.order_by("-id")[: wanted * 4]
                if live.trigger_matches(parsed, lead)
            ][:wanted]
        own = simulate.parse_scenario(_("Sample"), sample_scenario) if sample_scenario else None
        sim_leads += simulate.real_leads(rows, own)
    if not sim_leads:
        raise ValidationFailed(
            _("Give at least one scenario or a number of real leads to run."),
            errors={"scenarios": [_("Required.")]},
        )
    return simulate.simulate(parsed, sim_leads, start=start or timezone.now(), tz=live.zone())


# --- Ready templates ---------------------------------------------------------------------------

# The seed's workflow: a brochure request gets the brochure; 7 days later a survey mail; bounced
# or not opened → discard; opened but not answered → telemarketing; wants a quote → sales (the
# survey's own rule makes the lead sales-ready, which ends its time in the workflow).
BROCHURE_FOLLOW_UP: dict[str, Any] = {
    "trigger": {"on": "nurturing"},
    "steps": [
        {"id": "brochure", "type": "send_email", "template": "Brochure"},
        {"id": "week", "type": "wait", "days": 7},
        {"id": "survey", "type": "send_survey", "template": "Survey invitation"},
        {
            "id": "answer",
            "type": "wait_for",
            "event": "answered",
            "days": 7,
            "then": "answered",
            "else": "bounced",
        },
        {
            "id": "bounced",
            "type": "branch",
            "if": {"event": "bounced", "since": "survey"},
            "then": "discard",
            "else": "opened",
        },
        {
            "id": "opened",
            "type": "branch",
            "if": {"event": "opened", "since": "survey"},
            "then": "call",
            "else": "discard",
        },
        {"id": "call", "type": "add_to_call_list", "call_list": "Brochure follow-up calls"},
        {
            "id": "called",
            "type": "wait_for",
            "event": "call_outcome",
            "call_list": "Brochure follow-up calls",
            "outcomes": ["qualified"],
            "days": 14,
            "then": "answered",
            "else": "discard",
        },
        {
            "id": "discard",
            "type": "disqualify",
            "reason": "No answer to the brochure and the survey",
        },
        {"id": "answered", "type": "end"},
    ],
}
READY_TEMPLATES: dict[str, dict[str, Any]] = {"brochure-follow-up": BROCHURE_FOLLOW_UP}


def create_from_template(*, by: Actor, template: str, name: str = "") -> Workflow:
    """A draft workflow from a ready template (its names are checked at activation)."""
    if template not in READY_TEMPLATES:
        raise ValidationFailed(_("No such workflow template."), errors={"template": [template]})
    return create_workflow(
        by=by,
        name=name or _("Brochure follow-up"),
        description=_(
            "Brochure at once; a survey 7 days later; bounced or not opened: disqualified; "
            "opened but not answered: a call; a quote request: sales."
        ),
        definition=READY_TEMPLATES[template],
    )


def enroll_matching(
    workflow: Workflow, *, by: Actor, q: str = "", source: int | None = None
) -> dict[str, int]:
    """Enrol the nurturing leads the actor sees that match a lead-list search (at most 10,000)."""
    from leadloop.leads.selectors import LeadFilters, iter_leads_for_export

    _check(by)
    filters = LeadFilters(status=(LeadStatus.NURTURING,), q=q, source=source)
    ids = list(iter_leads_for_export(by, filters, limit=10000).values_list("id", flat=True))
    return enroll(workflow, ids, by=by)
