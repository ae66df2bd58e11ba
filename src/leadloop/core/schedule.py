"""Periodic jobs, declared in code: each app registers its own in `AppConfig.ready()`.

`core` sits below every app, so it names none of their tasks; the worker runs whatever the
installed apps registered (`leadloop.intake.apps`, `leadloop.assessment.apps`, …).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    every: timedelta
    task: Any


# Filled by the apps' ready(); a list so that a module that imported it sees every registration.
SCHEDULE: list[PeriodicSpec] = []


def register(*specs: PeriodicSpec) -> None:
    """Add periodic jobs; a second registration under the same name replaces the first."""
    for spec in specs:
        SCHEDULE[:] = [job for job in SCHEDULE if job.name != spec.name]
        SCHEDULE.append(spec)
