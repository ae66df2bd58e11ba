"""The lead-list query shapes every benchmark and EXPLAIN run uses (the issue's list, plus two)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Shape:
    name: str
    actor: str  # "admin", "rep" or "manager" (bench/prepare.py makes their keys and sessions)
    query: dict[str, Any] = field(default_factory=dict)
    deep: bool = False  # page 50: the cursor comes from walking 49 pages first


def shapes(params: dict[str, Any]) -> list[Shape]:
    """The shapes, filled in with the parameters bench/prepare.py found in the database."""
    return [
        Shape("all, newest first", "admin", {"sort": "-created_at"}),
        Shape("status=nurturing, newest first", "admin", {"status": "nurturing"}),
        Shape(
            "status=contacted, by last name", "admin", {"status": "contacted", "sort": "last_name"}
        ),
        Shape("source filter", "admin", {"source": params["source_id"]}),
        Shape("search common last name", "admin", {"q": params["common_last_name"]}),
        Shape("search rare e-mail", "admin", {"q": params["rare_email"]}),
        Shape("search phone prefix", "admin", {"q": params["phone_prefix"]}),
        Shape("team filter as manager", "manager", {"team": params["team_id"]}),
        # The rep's page shows open leads by default (issue 11); the API asks for it by name.
        Shape("rep: own leads", "rep", {}),
        Shape("rep: open leads by priority", "rep", {"state": "open", "sort": "-priority"}),
        Shape("rep: search common last name", "rep", {"q": params["common_last_name"]}),
        Shape("rep: status=contacted", "rep", {"status": "contacted"}),
        Shape("deep cursor page 50", "admin", {"sort": "-created_at"}, deep=True),
        # Two shapes beyond the list that the first 1M run showed to be slow.
        Shape("sort by engagement score", "admin", {"sort": "-engagement_score"}),
        Shape("search broad term (gmail)", "admin", {"q": "gmail"}),
    ]
