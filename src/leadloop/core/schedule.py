"""Periodic jobs, declared in code: each app registers its own in `AppConfig.ready()`.

`core` sits below every app, so it names none of their tasks; the worker runs whatever the
installed apps registered (`leadloop.intake.apps`, `leadloop.assessment.apps`, …). A job names its
task by path, so that setting Django up (every CLI command) does not import the apps' tasks and
what they pull in; the worker imports them when it enqueues.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    every: timedelta
    task_path: str  # "leadloop.intake.tasks.poll_feeds_task"

    @property
    def task(self) -> Any:
        """The task object (a `retrying_task`), imported on first use."""
        return import_string(self.task_path)


# Filled by the apps' ready(); a list so that a module that imported it sees every registration.
SCHEDULE: list[PeriodicSpec] = []


def register(*specs: PeriodicSpec) -> None:
    """Add periodic jobs; a second registration under the same name replaces the first."""
    for spec in specs:
        SCHEDULE[:] = [job for job in SCHEDULE if job.name != spec.name]
        SCHEDULE.append(spec)
