"""Background tasks that retry with exponential back-off.

Neither django-tasks-db nor django-tasks-rq retries a failed task, so every Leadloop task is
declared with `retrying_task`: on an exception it enqueues itself again with `run_after` set
to an exponentially growing delay, up to `max_attempts`, and then re-raises so the failed run
stays visible in the task results. Tasks must be safe to run twice (they reload their rows and
check state), which makes a retry after a partial run harmless.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any, ParamSpec, TypeVar

from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks import task
from django_tasks.base import Task

logger = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")

ATTEMPT_KWARG = "_attempt"


def backoff_delay(attempt: int, *, base_seconds: float, max_seconds: float) -> float:
    """Seconds to wait before attempt `attempt + 1`: doubling from `base_seconds`, capped, ±10%."""
    delay = min(base_seconds * (2 ** (attempt - 1)), max_seconds)
    return delay * random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not security


def retrying_task(
    *,
    max_attempts: int = 6,
    base_seconds: float = 10.0,
    max_seconds: float = 3600.0,
    **task_options: Any,
) -> Callable[[Callable[P, T]], Task[P, T]]:
    """Declare a task that re-enqueues itself with back-off when it raises."""

    def decorator(func: Callable[P, T]) -> Task[P, T]:
        holder: dict[str, Task[Any, T]] = {}

        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> T:
            attempt = int(kwargs.pop(ATTEMPT_KWARG, 1))
            _clear_queued_mark(holder["task"].module_path)
            try:
                return func(*args, **kwargs)
            except Exception:
                this_task = holder["task"]
                if attempt >= max_attempts:
                    logger.exception(
                        "task gave up task=%s attempt=%d", this_task.module_path, attempt
                    )
                    raise
                delay = backoff_delay(attempt, base_seconds=base_seconds, max_seconds=max_seconds)
                backend = this_task.get_backend()
                retry = this_task
                if backend.supports_defer:
                    retry = this_task.using(run_after=timezone.now() + timedelta(seconds=delay))
                logger.warning(
                    "task failed, retrying task=%s attempt=%d delay_s=%.1f",
                    this_task.module_path,
                    attempt,
                    delay,
                )
                retry.enqueue(*args, **{**kwargs, ATTEMPT_KWARG: attempt + 1})
                raise

        created: Task[P, T] = task(**task_options)(run)  # type: ignore[arg-type]
        holder["task"] = created
        return created

    return decorator


def enqueue(module_path: str, *, run_after: Any = None, **kwargs: Any) -> None:
    """Enqueue the task declared at `module_path` (`leadloop.intake.tasks.process_submission_task`),
    to run no earlier than `run_after` where the backend can defer (elsewhere at once).

    A service names its own app's task by path rather than importing the tasks module: that module
    imports the service (a task calls one service), and the layers contract in pyproject.toml keeps
    services below tasks, so neither imports the other in a cycle.
    """
    declared: Task[..., Any] = import_string(module_path)
    if run_after is not None and declared.get_backend().supports_defer:
        declared = declared.using(run_after=run_after)
    marked = run_after is None and _on_redis()
    if marked:
        # Before the job exists: a worker that starts it at once clears the mark, never the
        # other way round (a mark left behind would hold back the next enqueue for its TTL).
        _redis().set(QUEUED_MARK + module_path, 1, ex=QUEUED_MARK_SECONDS)
    try:
        declared.enqueue(**kwargs)
    except Exception:
        if marked:
            _clear_queued_mark(module_path)
        raise


def is_queued(module_path: str) -> bool:
    """Whether a run of the task at `module_path` waits in the queue, not yet started.

    Lets a caller whose work that run will pick up anyway skip enqueueing another (the routing
    of leads that arrive while one routing run is queued). The database backend answers from
    its task rows. On Redis a run enqueued through `enqueue` leaves a mark that the run clears
    when it starts (RQ keeps no index of its jobs by task): without it every sales-ready lead
    queued a routing run of its own, and two workers spent their time in overlapping runs
    (bench/whole_loop.py). A mark outlives a lost job by at most `QUEUED_MARK_SECONDS`; the
    sweeps make good what such a job would have done. Elsewhere the answer is False.
    """
    from django.conf import settings

    if _on_redis():
        return bool(_redis().exists(QUEUED_MARK + module_path))
    if not str(settings.TASKS["default"]["BACKEND"]).startswith("django_tasks_db"):
        return False
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.ready().filter(task_path=module_path).exists()


QUEUED_MARK = "leadloop:queued:"
QUEUED_MARK_SECONDS = 600


def _on_redis() -> bool:
    from django.conf import settings

    return str(settings.TASKS["default"]["BACKEND"]).startswith("django_tasks_rq")


def _redis() -> Any:
    import django_rq

    return django_rq.get_connection("default")


def _clear_queued_mark(module_path: str) -> None:
    if _on_redis():
        _redis().delete(QUEUED_MARK + module_path)
