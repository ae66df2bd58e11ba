"""Workflow pages (marketing, admins): `pages` (the list, a workflow's page, simulator,
enrolments) and `steps` (editing the ordered list of steps one step at a time)."""

from leadloop.nurture.workflows.views.pages import (
    enrollment_detail,
    workflow_activate,
    workflow_create,
    workflow_definition,
    workflow_detail,
    workflow_enroll,
    workflow_list,
    workflow_pause,
    workflow_simulate,
    workflow_trigger,
)
from leadloop.nurture.workflows.views.steps import step_add, step_edit, step_move, step_remove

__all__ = [
    "enrollment_detail",
    "step_add",
    "step_edit",
    "step_move",
    "step_remove",
    "workflow_activate",
    "workflow_create",
    "workflow_definition",
    "workflow_detail",
    "workflow_enroll",
    "workflow_list",
    "workflow_pause",
    "workflow_simulate",
    "workflow_trigger",
]
