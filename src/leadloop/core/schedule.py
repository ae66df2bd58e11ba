"""Periodic jobs, declared in code. Later capabilities (feed polls, SLA checks) add theirs here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from leadloop.assessment import tasks as assessment_tasks
from leadloop.core import tasks
from leadloop.intake import tasks as intake_tasks
from leadloop.privacy import tasks as privacy_tasks


@dataclass(frozen=True)
class PeriodicSpec:
    name: str
    every: timedelta
    task: Any


SCHEDULE: tuple[PeriodicSpec, ...] = (
    PeriodicSpec("prune_task_results", timedelta(hours=24), tasks.prune_task_results_task),
    PeriodicSpec("requeue_stalled_tasks", timedelta(minutes=5), tasks.requeue_stalled_tasks_task),
    PeriodicSpec("prune_rate_counters", timedelta(hours=1), tasks.prune_rate_counters_task),
    PeriodicSpec("optimize_database", timedelta(hours=24), tasks.optimize_database_task),
    PeriodicSpec(
        "process_orphaned_submissions", timedelta(minutes=1), intake_tasks.process_orphans_task
    ),
    PeriodicSpec("poll_feeds", timedelta(minutes=10), intake_tasks.poll_feeds_task),
    PeriodicSpec("poll_ftp", timedelta(minutes=5), intake_tasks.poll_ftp_task),
    PeriodicSpec("poll_imap", timedelta(minutes=2), intake_tasks.poll_imap_sources_task),
    PeriodicSpec("refresh_scores", timedelta(hours=1), assessment_tasks.refresh_scores_task),
    PeriodicSpec("assess_pending", timedelta(minutes=1), assessment_tasks.assess_pending_task),
    PeriodicSpec("apply_retention", timedelta(hours=24), privacy_tasks.apply_retention_task),
)
