"""The assessment configuration as one in-memory snapshot, read once per few seconds per process.

Assessing a lead needs the scoring settings, the grading and engagement rules, the blocklist and
the source's policy: five queries per lead at intake if read each time. The snapshot is reloaded
when it is older than `TTL` seconds, and at once in the process that changed the configuration
(the config services call `invalidate()`), so a change reaches the other workers within `TTL`.
"""

from __future__ import annotations

import ipaddress
import threading
import time
from dataclasses import dataclass, field

from leadloop.assessment.models import (
    BlockEntry,
    BlockKind,
    EngagementRule,
    GradingRule,
    ScoringSettings,
    SourcePolicy,
)

TTL = 5.0

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Blocklist:
    email_domains: frozenset[str] = frozenset()
    emails: frozenset[str] = frozenset()
    phones: frozenset[str] = frozenset()
    # Blocked networks by version and prefix length: an address is blocked when its network at
    # one of those lengths is in the set. A few set lookups, however long the list (testing
    # each network in turn cost 1–2 ms a lead at 2,500 entries).
    networks: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict)

    def ip_blocked(self, ip: str) -> bool:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        bits = address.max_prefixlen
        value = int(address)
        for (version, length), starts in self.networks.items():
            if (
                version == address.version
                and (value >> (bits - length) << (bits - length)) in starts
            ):
                return True
        return False


def _index_networks(networks: list[Network]) -> dict[tuple[int, int], frozenset[int]]:
    grouped: dict[tuple[int, int], set[int]] = {}
    for network in networks:
        key = (network.version, network.prefixlen)
        grouped.setdefault(key, set()).add(int(network.network_address))
    return {key: frozenset(starts) for key, starts in grouped.items()}


@dataclass(frozen=True)
class Snapshot:
    settings: ScoringSettings
    grading: tuple[GradingRule, ...]
    engagement: tuple[EngagementRule, ...]
    blocklist: Blocklist
    policies: dict[int, SourcePolicy] = field(default_factory=dict)
    loaded_at: float = 0.0

    def policy_for(self, source_id: int) -> SourcePolicy:
        policy = self.policies.get(source_id)
        return policy if policy is not None else SourcePolicy(source_id=source_id)


_lock = threading.Lock()
_current: Snapshot | None = None


def current() -> Snapshot:
    """The configuration to assess with (reloaded when older than TTL)."""
    global _current
    snapshot = _current
    if snapshot is not None and time.monotonic() - snapshot.loaded_at < TTL:
        return snapshot
    with _lock:
        _current = _load()
        return _current


def invalidate() -> None:
    """Forget the snapshot: the next assessment in this process reads the configuration again."""
    global _current
    _current = None


def scoring_settings() -> ScoringSettings:
    """The settings row, created with the defaults on first use."""
    found = ScoringSettings.objects.filter(pk=1).first()
    return found if found is not None else ScoringSettings(pk=1)


def _load() -> Snapshot:
    domains, emails, phones, networks = set(), set(), set(), []
    for kind, value in BlockEntry.objects.values_list("kind", "value"):
        if kind == BlockKind.EMAIL_DOMAIN:
            domains.add(value.lower())
        elif kind == BlockKind.EMAIL:
            emails.add(value.lower())
        elif kind == BlockKind.PHONE:
            phones.add(value)
        elif kind == BlockKind.IP:
            try:
                networks.append(ipaddress.ip_network(value, strict=False))
            except ValueError:
                continue
    return Snapshot(
        settings=scoring_settings(),
        grading=tuple(GradingRule.objects.filter(is_active=True)),
        engagement=tuple(EngagementRule.objects.filter(is_active=True)),
        blocklist=Blocklist(
            frozenset(domains), frozenset(emails), frozenset(phones), _index_networks(networks)
        ),
        policies={p.source_id: p for p in SourcePolicy.objects.all()},
        loaded_at=time.monotonic(),
    )
