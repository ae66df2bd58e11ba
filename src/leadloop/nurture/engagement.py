"""Tells the workflows that a lead did something they may be waiting for.

Mail tracking (a counted open or click), bounces, survey answers and call outcomes call
`engaged(lead_id)`; the workflows capability registers its `nudge` here when the app is ready,
so a lead waiting for "opened within 7 days" goes on as soon as the open is recorded (the "no"
exit still waits for the deadline). A registry rather than an import, so that mail and surveys
do not import the workflows that use them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import transaction

logger = logging.getLogger(__name__)

_listeners: list[Callable[[int], None]] = []
_quiet: ContextVar[bool] = ContextVar("nurture_engagement_quiet", default=False)


def listen(listener: Callable[[int], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def engaged(lead_id: int) -> None:
    """After the commit, tell each listener; one that fails is logged, never the caller's error."""
    if _quiet.get():
        return

    def run() -> None:
        for listener in _listeners:
            try:
                listener(lead_id)
            except Exception:
                logger.exception("engagement listener failed lead=%d", lead_id)

    transaction.on_commit(run)


@contextmanager
def quiet() -> Iterator[None]:
    """Tell nobody: for a loader that drives the workflows' clock itself (the demo replays weeks
    of engagement with their own times, and a nudge would use the wall clock)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)
