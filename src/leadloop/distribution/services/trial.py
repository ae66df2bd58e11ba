"""Trying rules before they route anything: "Test a lead" and the dry run over recent leads."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import Team
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import lead_visibility
from leadloop.distribution import actions, engine
from leadloop.distribution.services import push
from leadloop.distribution.services.rules import clean_document
from leadloop.errors import NotFound
from leadloop.leads.models import Lead

MAX_DRY_RUN = 5000


@dataclass(frozen=True)
class Trial:
    lead: Lead
    match: engine.Match
    rules: list[tuple[str, tuple[engine.Check, ...]]]
    target: str
    rep: str
    skipped: list[str]


def test_lead(lead_id: int, document: Any, *, by: Actor) -> Trial:
    """Which rule of `document` (the draft or a version) `lead_id` matches, every rule's
    conditions as checked, and for a team push the rep it would reach now. Writes nothing."""
    require(by, Permission.VIEW_ROUTING)
    clean = clean_document(document)
    lead = (
        Lead.objects.filter(lead_visibility(by))
        .select_related("source", "campaign")
        .filter(pk=lead_id)
        .first()
        if 0 < lead_id < 2**63
        else None
    )
    if lead is None:
        raise NotFound(_("No such lead."))
    match = engine.decide(clean["rules"], clean["default"], lead)
    rep, skipped = "", []
    action = match.action
    if action.get("kind") == actions.TEAM and action.get("mode") != actions.POOL:
        team = Team.objects.filter(pk=int(action.get("team_id") or 0)).first()
        if team is not None:
            choice = push.choose_rep(team, language=lead.language, at=timezone.now())
            rep = choice.user.display_name if choice.user else ""
            skipped = [choice.detail, *choice.skipped] if choice.user else choice.skipped
    return Trial(
        lead=lead,
        match=match,
        rules=engine.explain(clean["rules"], lead),
        target=actions.describe(action),
        rep=rep,
        skipped=[note for note in skipped if note],
    )


@dataclass(frozen=True)
class DryRun:
    rows: list[tuple[Lead, engine.Match, str]]
    counts: list[tuple[str, int]]  # every rule in order, then the default, with its matches
    unmatched_rules: list[str]


def dry_run(document: Any, *, by: Actor, last: int = 200) -> DryRun:
    """Where each of the `last` newest leads would go under `document`; how many each rule
    takes, and which rules take none (a rule that matches nothing is usually a typo)."""
    require(by, Permission.CONFIGURE_ROUTING)
    clean = clean_document(document)
    count = max(1, min(int(last), MAX_DRY_RUN))
    leads = list(
        Lead.objects.filter(merged_into__isnull=True)
        .select_related("source", "campaign")
        .order_by("-created_at", "-id")[:count]
    )
    tally: Counter[int | None] = Counter()
    rows = []
    for lead in leads:
        match = engine.decide(clean["rules"], clean["default"], lead)
        tally[match.index] += 1
        rows.append((lead, match, actions.describe(match.action)))
    counts = [(rule["name"], tally[index]) for index, rule in enumerate(clean["rules"])]
    counts.append(("", tally[None]))
    unmatched = [rule["name"] for index, rule in enumerate(clean["rules"]) if not tally[index]]
    return DryRun(rows=rows, counts=counts, unmatched_rules=unmatched)
