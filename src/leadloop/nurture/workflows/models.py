"""Nurture workflows: a trigger and an ordered list of steps, kept as data in versions.

A workflow's steps live in `WorkflowVersion.definition` (JSON, checked by
`services.definition.parse` before it is saved). A version that has been activated never
changes: editing an active workflow writes a new version, and a lead stays on the version it
started (`Enrollment.version`). `Enrollment.due_at` is when the engine next looks at the lead;
`EnrollmentStep` is the path the lead took, one row per step done or branch taken.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "Enrollment",
    "EnrollmentState",
    "EnrollmentStep",
    "Workflow",
    "WorkflowState",
    "WorkflowVersion",
]


class WorkflowState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ACTIVE = "active", _("Active")
    PAUSED = "paused", _("Paused")


class Workflow(models.Model):
    """A named workflow; its steps are in its versions, `active_version` the one that enrols."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True, default="")
    state = models.CharField(
        _("state"), max_length=10, choices=WorkflowState.choices, default=WorkflowState.DRAFT
    )
    active_version = models.ForeignKey(
        "nurture.WorkflowVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("active version"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name"]
        verbose_name = _("workflow")

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """One version of a workflow's trigger and steps. Frozen once `activated_at` is set."""

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("what changed"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    activated_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["workflow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class EnrollmentState(models.TextChoices):
    ACTIVE = "active", _("In the workflow")
    FINISHED = "finished", _("Finished")
    EXITED = "exited", _("Left the workflow")
    FAILED = "failed", _("Stopped by an error")


class Enrollment(models.Model):
    """One lead going through one version of a workflow.

    `step` is the id of the step the lead is at; `due_at` when the engine looks again (a wait's
    end, an event's deadline); `waiting_since` when the current wait began, so that "opened
    within 7 days" counts what happened from then on; `data` what earlier steps left for later
    ones (the marketing mails sent, the call list entry's start).
    """

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="enrollments")
    version = models.ForeignKey(
        WorkflowVersion, on_delete=models.PROTECT, related_name="enrollments"
    )
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    state = models.CharField(
        max_length=10, choices=EnrollmentState.choices, default=EnrollmentState.ACTIVE
    )
    step = models.CharField(max_length=40, blank=True, default="")
    due_at = models.DateTimeField(null=True, blank=True)
    waiting_since = models.DateTimeField(null=True, blank=True)
    wait_until = models.DateTimeField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="")
    enrolled_by = models.CharField(max_length=120, blank=True, default="")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True, default="")

    class Meta:
        constraints = [
            # A lead goes through a workflow once.
            models.UniqueConstraint(fields=["lead", "workflow"], name="enrollment_lead_workflow")
        ]
        indexes = [
            # The engine's queue: what is due, among the leads still in a workflow.
            models.Index(
                fields=["due_at"],
                name="enrollment_due",
                condition=Q(state="active"),
            ),
            models.Index(fields=["workflow", "state"], name="enrollment_workflow_state"),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} in workflow {self.workflow_id}"


class EnrollmentStep(models.Model):
    """A step a lead went through: which, when, and what came of it (the branch taken)."""

    enrollment = models.ForeignKey(Enrollment, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=40)
    kind = models.CharField(max_length=20)
    outcome = models.CharField(max_length=40, blank=True, default="")
    detail = models.CharField(max_length=300, blank=True, default="")
    at = models.DateTimeField()

    class Meta:
        ordering = ["enrollment", "id"]
        indexes = [models.Index(fields=["enrollment", "id"], name="enrollment_step_path")]

    def __str__(self) -> str:
        return f"{self.step}: {self.outcome}"
