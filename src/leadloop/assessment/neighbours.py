"""How many other leads share this lead's IP, device, e-mail or phone: one query, not four.

The fraud screen's velocity rules and the device stage's shared fingerprint all count rows by an
indexed column. Through the ORM that was four compiled queries per lead (~2 ms at intake,
measured in bench/assess_cost.py); written out once it is one round trip of index probes.
Each count stops at its limit: "more than the limit" is all a rule needs to know.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import connection

from leadloop.leads.models import Lead

if TYPE_CHECKING:
    from leadloop.assessment.context import Context

# (name, column, counted within the window?) — every column has an index starting with it.
_COUNTS = (
    ("ip", "client_ip", True),
    ("device", "device_fingerprint", True),
    ("email", "email", True),
    ("phone", "phone_e164", True),
    ("device_ever", "device_fingerprint", False),
)


@dataclass(frozen=True)
class Neighbours:
    ip: int = 0
    device: int = 0
    email: int = 0
    phone: int = 0
    device_ever: int = 0


def _sql() -> str:
    table = Lead._meta.db_table
    parts = []
    for _name, column, windowed in _COUNTS:
        window = " AND created_at >= %s" if windowed else ""
        parts.append(
            f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {column} = %s{window}"  # noqa: S608
            f" AND id <> %s LIMIT %s) AS n)"
        )
    return "SELECT " + ", ".join(parts)


_SQL = _sql()


def count_neighbours(
    *,
    lead_id: int | None,
    ip: str,
    fingerprint: str,
    email: str,
    phone: str,
    since: dt.datetime,
    limit: int,
    ever_limit: int = 1000,
) -> Neighbours:
    """Other leads with the same value (within the window since `since`, at most `limit`)."""
    values = {"ip": ip, "device": fingerprint, "email": email, "phone": phone}
    values["device_ever"] = fingerprint
    if not any(values.values()):
        return Neighbours()
    since_db = connection.ops.adapt_datetimefield_value(since)
    params: list[Any] = []
    for name, _column, windowed in _COUNTS:
        params.append(values[name] or None)  # NULL matches nothing
        if windowed:
            params.append(since_db)
        params.append(lead_id or 0)
        params.append(ever_limit if name == "device_ever" else limit)
    with connection.cursor() as cursor:
        cursor.execute(_SQL, params)
        row = cursor.fetchone()
    return Neighbours(*(int(n) for n in row))


def neighbours(ctx: Context, device: Mapping[str, Any]) -> Neighbours:
    """The counts of leads sharing a value with this one, read once per assessment (`device`
    is the device stage's report: the IP and fingerprint to count)."""
    if ctx.neighbours is None:
        s = ctx.settings
        ctx.neighbours = count_neighbours(
            lead_id=ctx.lead.pk,
            # A private address is a test rig or an office behind a misconfigured proxy.
            ip=str(device.get("ip") or "") if device.get("ip_public") else "",
            fingerprint=str(device.get("fingerprint") or ""),
            email=ctx.lead.email,
            phone=ctx.lead.phone_e164,
            since=ctx.now - dt.timedelta(minutes=s.velocity_window_minutes),
            limit=s.velocity_limit,
        )
    return ctx.neighbours
