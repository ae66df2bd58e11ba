"""How a lead typed into the lead form or posted to /api/v1/leads gets in, and what its status
change re-derives: steps from above.

The form and the endpoint live in `leads`, yet a new or edited lead must pass the assessment and a
source key's post must take the intake, and both apps sit above `leads`. Likewise a status move
(`leads.services.transition`) changes what the assessment's priority reads: a closed lead carries
no contact urgency. They register their
functions here in their `AppConfig.ready()` (`leadloop.assessment.apps`, `leadloop.intake.apps`),
so `leads` names neither and import-linter keeps the order (pyproject.toml). A step is the path
of a function, imported on first use, so setting Django up does not import the upper apps.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.utils.module_loading import import_string

if TYPE_CHECKING:
    import datetime as dt

    from django.http import HttpRequest

    from leadloop.accounts.actors import Actor, SourceActor
    from leadloop.leads.models import Lead, Source


STEPS = frozenset(
    {"create_lead", "reassess_after_edit", "rescore_after_status_change", "submit_as_source"}
)
_steps: dict[str, str] = {}


def register(**paths: str) -> None:
    """Plug in the steps an upper app owns, each as a function's path, by the step's name:
    `create_lead`, `reassess_after_edit`, `rescore_after_status_change` or `submit_as_source`."""
    unknown = set(paths) - STEPS
    if unknown:
        raise TypeError(f"leads.entry has no step {', '.join(sorted(unknown))}")
    _steps.update(paths)


def _step(name: str) -> Any:
    if name not in _steps:
        raise RuntimeError(f"No app registered leads.entry.{name}; is it in INSTALLED_APPS?")
    return import_string(_steps[name])


def create_lead(data: dict[str, Any], *, source: Source, by: Actor) -> Lead:
    """Create a lead a person typed in, assessed like any other lead."""
    lead: Lead = _step("create_lead")(data, source=source, by=by)
    return lead


def reassess_after_edit(lead: Lead) -> None:
    """Run the assessment again after a person changed the lead's fields."""
    _step("reassess_after_edit")(lead)


def rescore_after_status_change(lead: Lead, *, at: dt.datetime) -> None:
    """Re-derive, on the unsaved row, the scores that read the status (the priority and its
    breakdown). `transition` calls it just before its save, so the new values are written by the
    same UPDATE in the same transaction as the status."""
    _step("rescore_after_status_change")(lead, at=at)


def submit_as_source(request: HttpRequest, actor: SourceActor, source: Source) -> tuple[int, bool]:
    """A source key's post through the one intake; the lead's id and whether it is new."""
    result: tuple[int, bool] = _step("submit_as_source")(request, actor, source)
    return result
