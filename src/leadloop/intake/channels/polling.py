"""Polling every source of one kind: the loop the feed and FTP jobs share."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from leadloop.errors import LeadloopError
from leadloop.leads.models import Source

logger = logging.getLogger(__name__)

Poll = TypeVar("Poll")


def poll_every_source(
    kind: str,
    poll: Callable[[Source], Poll],
    failed: Callable[[Source, str], Poll],
) -> list[Poll]:
    """Poll every active source of `kind` in id order, one after the other.

    A source whose poll raises a LeadloopError (an unreachable server, a broken feed, missing
    settings) is logged and answered with `failed(source, reason)`; the others are still polled.
    Anything else is a bug and propagates.
    """
    results = []
    for source in Source.objects.filter(kind=kind, is_active=True).order_by("pk"):
        try:
            results.append(poll(source))
        except LeadloopError as exc:
            logger.warning("%s poll failed source=%s reason=%s", kind, source.pk, exc.detail)
            results.append(failed(source, exc.detail))
    return results
