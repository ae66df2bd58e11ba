"""Reads for the workflow pages, the API and the CLI (marketing and admins)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import lead_visibility
from leadloop.errors import NotFound
from leadloop.leads.models import Lead
from leadloop.nurture.workflows.models import (
    Enrollment,
    EnrollmentState,
    EnrollmentStep,
    Workflow,
    WorkflowVersion,
)


def _check(actor: Actor) -> None:
    require(actor, Permission.MANAGE_NURTURE, _("Only marketing and admins manage workflows."))


def list_workflows(actor: Actor) -> QuerySet[Workflow]:
    """Every workflow with its number of leads in it now and in total."""
    _check(actor)
    return (
        Workflow.objects.select_related("active_version")
        .annotate(
            active_count=Count("enrollments", filter=Q(enrollments__state=EnrollmentState.ACTIVE)),
            total_count=Count("enrollments"),
            version_count=Count("versions", distinct=True),
        )
        .order_by("name")
    )


def get_workflow_for(actor: Actor, workflow_id: int) -> Workflow:
    _check(actor)
    workflow = Workflow.objects.select_related("active_version").filter(pk=workflow_id).first()
    if workflow is None:
        raise NotFound(_("No such workflow."))
    return workflow


def find_workflow(actor: Actor, name_or_id: str) -> Workflow:
    """A workflow by id or by name (the CLI)."""
    _check(actor)
    query = Q(name=name_or_id) | (Q(pk=int(name_or_id)) if name_or_id.isdigit() else Q(pk=None))
    workflow = Workflow.objects.select_related("active_version").filter(query).first()
    if workflow is None:
        raise NotFound(_("No workflow %(name)r.") % {"name": name_or_id})
    return workflow


def latest_version(actor: Actor, workflow: Workflow) -> WorkflowVersion:
    _check(actor)
    version = WorkflowVersion.objects.filter(workflow=workflow).order_by("-number").first()
    if version is None:
        raise NotFound(_("This workflow has no version."))
    return version


def list_versions(actor: Actor, workflow: Workflow) -> QuerySet[WorkflowVersion]:
    _check(actor)
    return (
        WorkflowVersion.objects.filter(workflow=workflow)
        .select_related("created_by")
        .annotate(lead_count=Count("enrollments"))
        .order_by("-number")
    )


def counts_by_state(actor: Actor, workflow: Workflow) -> dict[str, int]:
    _check(actor)
    rows = (
        Enrollment.objects.filter(workflow=workflow)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return dict(rows)


def counts_by_step(actor: Actor, workflow: Workflow) -> dict[str, int]:
    """How many leads are at each step now (waiting or due)."""
    _check(actor)
    rows = (
        Enrollment.objects.filter(workflow=workflow, state=EnrollmentState.ACTIVE)
        .values_list("step")
        .annotate(n=Count("id"))
        .values_list("step", "n")
    )
    return dict(rows)


def counts_by_outcome(actor: Actor, workflow: Workflow) -> dict[tuple[str, str], int]:
    """How many times each step ended each way (a branch's yes and no), over all leads."""
    _check(actor)
    rows = (
        EnrollmentStep.objects.filter(enrollment__workflow=workflow)
        .values_list("step", "outcome")
        .annotate(n=Count("id"))
        .values_list("step", "outcome", "n")
    )
    return {(step, outcome): n for step, outcome, n in rows}


def list_enrollments(
    actor: Actor, workflow: Workflow, *, state: str = "", limit: int = 50
) -> list[Enrollment]:
    """The latest enrolments of leads the actor may see."""
    _check(actor)
    query = Enrollment.objects.filter(
        workflow=workflow, lead__in=Lead.objects.filter(lead_visibility(actor)).values("id")
    )
    if state:
        query = query.filter(state=state)
    return list(query.select_related("lead", "version").order_by("-id")[:limit])


def get_enrollment_for(actor: Actor, workflow: Workflow, enrollment_id: int) -> Enrollment:
    _check(actor)
    enrollment = (
        Enrollment.objects.filter(
            pk=enrollment_id,
            workflow=workflow,
            lead__in=Lead.objects.filter(lead_visibility(actor)).values("id"),
        )
        .select_related("lead", "version")
        .first()
    )
    if enrollment is None:
        raise NotFound(_("No such enrolment."))
    return enrollment


def path_of(enrollment: Enrollment) -> list[EnrollmentStep]:
    return list(EnrollmentStep.objects.filter(enrollment=enrollment).order_by("id"))


def enrollments_of_lead(actor: Actor, lead: Lead) -> list[Enrollment]:
    """The workflows a lead the actor sees is or was in (for the lead page)."""
    if not Lead.objects.filter(lead_visibility(actor), pk=lead.pk).exists():
        return []
    return list(
        Enrollment.objects.filter(lead=lead).select_related("workflow", "version").order_by("-id")
    )
