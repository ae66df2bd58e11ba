"""Workflow services: the definition, the engine, running it live, the simulator, management."""

from leadloop.nurture.workflows.services.editing import (
    STEP_DEFAULTS,
    add_step,
    edit_step,
    move_step,
    remove_step,
    set_trigger,
)
from leadloop.nurture.workflows.services.manage import (
    BROCHURE_FOLLOW_UP,
    READY_TEMPLATES,
    activate,
    create_from_template,
    create_workflow,
    enroll,
    enroll_matching,
    pause,
    rename_workflow,
    save_definition,
    simulate_workflow,
)

__all__ = [
    "BROCHURE_FOLLOW_UP",
    "READY_TEMPLATES",
    "STEP_DEFAULTS",
    "activate",
    "add_step",
    "create_from_template",
    "create_workflow",
    "edit_step",
    "enroll",
    "enroll_matching",
    "move_step",
    "pause",
    "remove_step",
    "rename_workflow",
    "save_definition",
    "set_trigger",
    "simulate_workflow",
]
