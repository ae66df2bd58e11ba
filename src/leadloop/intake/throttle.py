"""How many posts a source and one sending address may make per window (HTTP intake).

    submission = receive(..., throttle=limits_for(source, ip=client_ip(request)))
    if submission.state == SubmissionState.THROTTLED: answer 429 with Retry-After

A post over a limit is still stored, as THROTTLED (nothing a sender sends is lost), but it is not
processed: a flood costs one insert per post, not the whole pipeline, and a person can reprocess
what was held back from the review queue. The limits are the source's own
(`Source.intake_limit`, `Source.intake_limit_per_address`) or the deployment's defaults
(LEADLOOP_INTAKE_LIMIT_PER_SOURCE, LEADLOOP_INTAKE_LIMIT_PER_ADDRESS), per
LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS; 0 means no limit.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from leadloop.core.ratelimit import Exceeded, Limit
from leadloop.leads.models import Source

THROTTLED = "throttled"


def _address_group(ip: str) -> str:
    """The address a limit counts: an IPv6 sender is counted per /64, which one host usually has
    whole, so hopping through its own addresses does not reset the count."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def limits_for(source: Source, *, ip: str) -> tuple[Limit, Limit]:
    """The source's limit and the limit for `ip` posting to it, in that order."""
    window = settings.LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS
    per_source = source.intake_limit
    per_address = source.intake_limit_per_address
    return (
        Limit(
            f"in:s:{source.pk}",
            settings.LEADLOOP_INTAKE_LIMIT_PER_SOURCE if per_source is None else per_source,
            window,
        ),
        Limit(
            f"in:a:{source.pk}:{_address_group(ip)}",
            settings.LEADLOOP_INTAKE_LIMIT_PER_ADDRESS if per_address is None else per_address,
            window,
        ),
    )


def throttled_record(exceeded: Exceeded) -> tuple[dict[str, str], dict[str, Any]]:
    """The reason shown in the review queue and the figures kept in the submission's meta."""
    scope = "source" if exceeded.limit.key.startswith("in:s:") else "address"
    values = {"n": exceeded.limit.allowed, "s": exceeded.limit.window}
    message = (
        _("More than %(n)d posts to this source in %(s)d seconds.") % values
        if scope == "source"
        else _("More than %(n)d posts from this address in %(s)d seconds.") % values
    )
    reason = {"code": THROTTLED, "message": message}
    meta = {
        "scope": scope,
        "allowed": exceeded.limit.allowed,
        "window_seconds": exceeded.limit.window,
        "retry_after": exceeded.retry_after,
    }
    return reason, meta


def retry_after(meta: dict[str, Any]) -> int:
    """Seconds a throttled sender should wait, as stored when it was throttled."""
    info = meta.get(THROTTLED) or {}
    return max(1, int(info.get("retry_after") or 1))
