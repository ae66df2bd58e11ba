"""How a lead typed into the lead form or posted to /api/v1/leads gets in: steps from above.

The form and the endpoint live in `leads`, yet a new or edited lead must pass the assessment and a
source key's post must take the intake, and both apps sit above `leads`. They register their
functions here in their `AppConfig.ready()` (`leadloop.assessment.apps`, `leadloop.intake.apps`),
so `leads` names neither and import-linter keeps the order (pyproject.toml).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.http import HttpRequest

    from leadloop.accounts.actors import Actor, SourceActor
    from leadloop.leads.models import Lead, Source


@dataclass
class _Steps:
    create_lead: Callable[..., Lead] | None = None
    reassess_after_edit: Callable[[Lead], object] | None = None
    submit_as_source: Callable[[HttpRequest, SourceActor, Source], tuple[int, bool]] | None = None


_steps = _Steps()


def register(
    *,
    create_lead: Callable[..., Lead] | None = None,
    reassess_after_edit: Callable[[Lead], object] | None = None,
    submit_as_source: Callable[[HttpRequest, SourceActor, Source], tuple[int, bool]] | None = None,
) -> None:
    """Plug in the steps an upper app owns; a step left out keeps its earlier registration."""
    if create_lead is not None:
        _steps.create_lead = create_lead
    if reassess_after_edit is not None:
        _steps.reassess_after_edit = reassess_after_edit
    if submit_as_source is not None:
        _steps.submit_as_source = submit_as_source


def _step(name: str) -> Any:
    step = getattr(_steps, name)
    if step is None:
        raise RuntimeError(f"No app registered leads.entry.{name}; is it in INSTALLED_APPS?")
    return step


def create_lead(data: dict[str, Any], *, source: Source, by: Actor) -> Lead:
    """Create a lead a person typed in, assessed like any other lead."""
    lead: Lead = _step("create_lead")(data, source=source, by=by)
    return lead


def reassess_after_edit(lead: Lead) -> None:
    """Run the assessment again after a person changed the lead's fields."""
    _step("reassess_after_edit")(lead)


def submit_as_source(request: HttpRequest, actor: SourceActor, source: Source) -> tuple[int, bool]:
    """A source key's post through the one intake; the lead's id and whether it is new."""
    result: tuple[int, bool] = _step("submit_as_source")(request, actor, source)
    return result
