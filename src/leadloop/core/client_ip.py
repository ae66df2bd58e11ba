"""The address a request really came from, behind the reverse proxies the operator trusts.

`REMOTE_ADDR` is the last hop. Behind a load balancer that is the balancer for every visitor,
so per-IP limits and device checks need the client it forwarded for. X-Forwarded-For is only
believed for hops listed in LEADLOOP_TRUSTED_PROXIES (addresses or networks, comma-separated):
walking the header from the right, the first address that is not a trusted proxy is the client.
Anything a client writes into the header itself is left of that point and ignored.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(spec: str) -> tuple[Network, ...]:
    try:
        return tuple(
            ipaddress.ip_network(part.strip(), strict=False)
            for part in spec.split(",")
            if part.strip()
        )
    except ValueError as exc:
        raise ImproperlyConfigured(f"LEADLOOP_TRUSTED_PROXIES is not valid: {exc}") from exc


def _trusted(address: str, networks: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the first untrusted hop of X-Forwarded-For."""
    remote = request.META.get("REMOTE_ADDR", "")
    networks = _networks(settings.LEADLOOP_TRUSTED_PROXIES)
    if not networks or not _trusted(remote, networks):
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a malformed hop: do not guess
    return hops[0] if hops else remote
