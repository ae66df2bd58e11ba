"""Revenue credited to the touchpoints of a won lead under five models, side by side.

A lead's touchpoints, oldest first: its own arrival (its source, campaign and UTM campaign),
every submission folded into it as a duplicate, every lead merged into it (that lead's arrival)
and every survey answer (the nurture channel: no source). Only touchpoints up to the moment
the lead was won count. The models (docs/analytics.md):

    first touch     all to the first            last touch   all to the last
    linear          equal shares                 position     40% first, 40% last, 20% between
    time decay      a touchpoint's weight halves for every HALF_LIFE before the win

Shares are fractions that add up to 1 per model and lead (rounded to 6 places; the rounding
rest goes to the last touchpoint, so the revenue credited is the revenue won).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from leadloop.analytics.models import Credit, LeadFact
from leadloop.leads.models import ActivityKind
from leadloop.leads.selectors import history as lead_history

HALF_LIFE = dt.timedelta(days=7)
PLACES = Decimal("0.000001")
MODELS = ("first_touch", "last_touch", "linear", "position_based", "time_decay")


@dataclass(frozen=True)
class Touch:
    at: dt.datetime
    kind: str
    source_id: int | None
    campaign_id: int | None
    utm_campaign: str


def shares(touches: Sequence[Touch], won_at: dt.datetime) -> dict[str, list[Decimal]]:
    """Each model's share per touchpoint (in order), adding up to exactly 1."""
    n = len(touches)
    raw: dict[str, list[Decimal]] = {
        "first_touch": [Decimal(1 if i == 0 else 0) for i in range(n)],
        "last_touch": [Decimal(1 if i == n - 1 else 0) for i in range(n)],
        "linear": [Decimal(1) / n] * n,
    }
    if n == 1:
        raw["position_based"] = [Decimal(1)]
    elif n == 2:
        raw["position_based"] = [Decimal("0.5"), Decimal("0.5")]
    else:
        middle = Decimal("0.2") / (n - 2)
        raw["position_based"] = [Decimal("0.4") if i in (0, n - 1) else middle for i in range(n)]
    weights = [
        Decimal(2) ** Decimal(-max((won_at - t.at).total_seconds(), 0) / HALF_LIFE.total_seconds())
        for t in touches
    ]
    total = sum(weights)
    raw["time_decay"] = [w / total for w in weights]
    result = {}
    for model, values in raw.items():
        rounded = [v.quantize(PLACES, ROUND_HALF_UP) for v in values]
        rounded[-1] += Decimal(1) - sum(rounded)
        result[model] = rounded
    return result


def compute(facts: Sequence[LeadFact]) -> list[Credit]:
    """The credit rows of these facts' won leads (their order value known), unsaved."""
    won = [
        f
        for f in facts
        if f.won_at is not None and f.order_value is not None and not f.is_duplicate
    ]
    if not won:
        return []
    ids = [f.lead_id for f in won]
    origins = lead_history.lead_origins(ids)
    entries = lead_history.touch_entries(ids)
    merged_ids = [
        int(data["merged_id"])
        for _lead, kind, _at, data in entries
        if kind == ActivityKind.MERGED and str((data or {}).get("merged_id", "")).isdigit()
    ]
    merged = lead_history.lead_origins(merged_ids) if merged_ids else {}
    touches: dict[int, list[Touch]] = {}
    for fact in won:
        origin = origins.get(fact.lead_id, {})
        touches[fact.lead_id] = [
            Touch(
                fact.received_at,
                "created",
                fact.source_id,
                fact.campaign_id,
                origin.get("utm_campaign", ""),
            )
        ]
    for lead_id, kind, at, data in entries:
        data = data or {}
        if kind == ActivityKind.FORM_SUBMITTED:
            if not data.get("touchpoint"):
                continue
            touch = Touch(
                at, "submitted", data.get("source_id"), data.get("campaign_id"),
                str(data.get("utm_campaign") or ""),
            )  # fmt: skip
        elif kind == ActivityKind.MERGED:
            gone = merged.get(int(data["merged_id"])) if "merged_id" in data else None
            if gone is None:
                continue
            touch = Touch(
                gone["created_at"], "merged", gone["source_id"], gone["campaign_id"],
                gone["utm_campaign"],
            )  # fmt: skip
        else:
            touch = Touch(at, "survey", None, None, "")
        touches[lead_id].append(touch)
    credits = []
    for fact in won:
        assert fact.won_at is not None
        assert fact.order_value is not None
        found = (
            sorted((t for t in touches[fact.lead_id] if t.at <= fact.won_at), key=lambda t: t.at)
            or touches[fact.lead_id][:1]
        )
        split = shares(found, fact.won_at)
        for index, touch in enumerate(found):
            credits.append(
                Credit(
                    lead_id=fact.lead_id,
                    position=index,
                    touched_at=touch.at,
                    kind=touch.kind,
                    source_id=touch.source_id,
                    campaign_id=touch.campaign_id,
                    utm_campaign=touch.utm_campaign[:200],
                    won_at=fact.won_at,
                    order_value=fact.order_value,
                    currency=fact.currency,
                    **{model: split[model][index] for model in MODELS},
                )
            )
    return credits


def write(lead_ids: Sequence[int], facts: Sequence[LeadFact]) -> list[dt.datetime]:
    """Replace these leads' credit rows with those of `facts` (when they differ); returns when
    the orders of the changed rows were won, whose days' totals are then counted again."""
    old = {key(c): c for c in Credit.objects.filter(lead_id__in=lead_ids)}
    new = {key(c): c for c in compute(facts)}
    if old.keys() == new.keys():
        return []
    Credit.objects.filter(lead_id__in=lead_ids).delete()
    Credit.objects.bulk_create(list(new.values()), batch_size=500)
    return [c.won_at for k, c in old.items() if k not in new] + [
        c.won_at for k, c in new.items() if k not in old
    ]


def key(credit: Credit) -> tuple[object, ...]:
    """What `verify` compares of a credit row."""
    return (
        credit.lead_id, credit.position, credit.touched_at, credit.kind, credit.source_id,
        credit.campaign_id, credit.won_at, credit.order_value, credit.currency,
        *(getattr(credit, m) for m in MODELS),
    )  # fmt: skip
