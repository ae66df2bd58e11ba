"""What a matching rule does with a lead: the action's kinds and how one reads."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

TEAM, PERSON, PARTNER, NURTURE, SELL = "team", "person", "partner", "nurture", "sell"
PUSH, POOL = "push", "pool"
KINDS = (TEAM, PERSON, PARTNER, NURTURE, SELL)


def describe(action: dict[str, Any]) -> str:
    """The action in a few words: "team North (push)", "Noor de Vries", "nurturing"."""
    kind = action.get("kind")
    if kind == TEAM:
        name = action.get("team", "?")
        if action.get("mode") == POOL:
            return _("the pool of team %(team)s") % {"team": name}
        return _("team %(team)s (pushed to a rep)") % {"team": name}
    if kind == PERSON:
        return str(action.get("user", "?"))
    if kind == PARTNER:
        return _("partner %(partner)s") % {"partner": action.get("partner", "?")}
    if kind == NURTURE:
        return _("keep nurturing")
    if kind == SELL:
        floor = action.get("floor")
        if floor:
            return _("sell to buyers (floor %(floor)s)") % {"floor": floor}
        return _("sell to buyers")
    return "?"
