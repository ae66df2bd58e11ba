"""Tasks the retry tests enqueue (tasks must live at an importable module path)."""

from leadloop.core.retry import retrying_task

CALLS: list[int] = []


@retrying_task(max_attempts=3, base_seconds=30)
def fails_until_third_call_task(marker: int) -> str:
    CALLS.append(marker)
    if len(CALLS) < 3:
        raise RuntimeError("flaky outside world")
    return "done"


@retrying_task(max_attempts=2, base_seconds=30, backend="immediate")
def always_fails_task(marker: int) -> None:
    CALLS.append(marker)
    raise RuntimeError("down for good")


@retrying_task(max_attempts=3, backend="immediate")
def flaky_immediate_task(marker: int) -> str:
    CALLS.append(marker)
    if len(CALLS) < 3:
        raise RuntimeError("flaky")
    return "done"
