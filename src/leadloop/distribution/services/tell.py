"""Who hears about a routing: the rep who got the lead, the partner's users, the manager of a
team whose pool took a lead nobody could, and marketing and admins when a lead could not be
placed. Written in the routing's transaction (notifications.notify), e-mailed after it.

Leads moved by hand (one, a bulk move from the list, everything a leaving rep owns) are told the
same way, from the `assigned` event: the rep who got them, the partner's users, or the manager
of the team whose pool took them. One message per receiver per batch, summarising when there is
more than one lead: a move of 500 leads to one rep is one e-mail, not 500. Nobody is told about
a move they made themselves (a rep taking a lead), nor about routing's moves (told above).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_noop

from leadloop.accounts.models import Role, Team, User
from leadloop.core.retry import enqueue
from leadloop.distribution.models import Outcome, RouteDecision
from leadloop.leads import selectors as lead_selectors
from leadloop.leads import services as lead_services
from leadloop.leads.events import LeadEvent
from leadloop.leads.models import Lead
from leadloop.notifications.services import notify

TELL_ASSIGNED_TASK = "leadloop.distribution.tasks.tell_assigned_task"
# A summary names this many leads; the link opens the full list.
NAMED_IN_SUMMARY = 10


def _url(lead: Lead) -> str:
    return f"/leads/{lead.pk}/"


def routed(lead: Lead, decision: RouteDecision, *, nobody_available: bool) -> None:
    params = {"lead": str(lead), "why": decision.explanation}
    if decision.outcome == Outcome.ASSIGNED and decision.user is not None:
        notify(
            [decision.user],
            kind="lead_assigned",
            title=gettext_noop("New lead for you: %(lead)s"),
            body=gettext_noop("%(why)s"),
            params=params,
            url=_url(lead),
            lead_id=lead.pk,
        )
    elif decision.outcome == Outcome.PARTNER and decision.partner is not None:
        # The partner's users read the lead's name as their organisation's field list allows.
        shown = decision.partner.field_view
        notify(
            User.objects.filter(partner_id=decision.partner_id, role=Role.PARTNER),
            kind="lead_for_partner",
            title=gettext_noop("New lead for your organisation: %(lead)s"),
            body=gettext_noop("%(why)s"),
            params={**params, "lead": lead_selectors.lead_label_for(lead, shown)},
            url=_url(lead),
            lead_id=lead.pk,
        )
    elif decision.outcome == Outcome.POOLED and nobody_available and decision.team_id:
        manager = Team.objects.filter(pk=decision.team_id).values_list("manager", flat=True)
        notify(
            User.objects.filter(pk__in=manager),
            kind="pool_nobody_available",
            title=gettext_noop("Nobody in your team could take %(lead)s: it waits in the pool"),
            body=gettext_noop("%(why)s"),
            params=params,
            url=_url(lead),
            lead_id=lead.pk,
        )
    elif decision.outcome == Outcome.UNROUTED:
        notify(
            User.objects.filter(Q(role=Role.ADMIN) | Q(role=Role.MARKETING)),
            kind="lead_unrouted",
            title=gettext_noop("%(lead)s could not be routed"),
            body=gettext_noop("%(why)s"),
            params=params,
            url=_url(lead),
            lead_id=lead.pk,
        )


def unclaimed(lead_id: int, team: Team, *, hours: int) -> None:
    """A lead has waited in `team`'s pool longer than its alert hours: tell the manager."""
    if team.manager_id is None:
        return
    lead = Lead.objects.filter(pk=lead_id).first()
    if lead is None:
        return
    notify(
        User.objects.filter(pk=team.manager_id),
        kind="pool_unclaimed",
        title=gettext_noop("%(lead)s has waited in the pool of %(team)s for over %(hours)s hours"),
        params={"lead": str(lead), "team": team.name, "hours": str(hours)},
        url=_url(lead),
        lead_id=lead.pk,
    )


def on_assigned(batch: Sequence[LeadEvent]) -> None:
    """`assigned` (after commit): queue telling the receivers of leads moved by hand, one task
    per batch. Routing's moves, releases and a person's moves to themselves are left out."""
    moves = [
        {
            "lead_id": e.lead_id,
            "user_id": e.data.get("user_id"),
            "team_id": e.data.get("team_id"),
            "partner_id": e.data.get("partner_id"),
            "by_user_id": e.data.get("by_user_id"),
            "by": e.by,
            "reason": e.data.get("reason") or "",
        }
        for e in batch
        if e.data.get("via") == lead_services.VIA_MANUAL
        and (e.data.get("user_id") or e.data.get("team_id") or e.data.get("partner_id"))
        and (e.data.get("user_id") is None or e.data.get("user_id") != e.data.get("by_user_id"))
    ]
    if moves:
        enqueue(TELL_ASSIGNED_TASK, moves=moves)


def _receiver(move: Mapping[str, Any], lead: Lead) -> tuple[str, int] | None:
    """Who gets the lead by this move, if it still has the lead (a later move wins)."""
    if move["user_id"]:
        return ("user", move["user_id"]) if lead.assigned_to_id == move["user_id"] else None
    if move["partner_id"]:
        held = lead.owner_partner_id == move["partner_id"]
        return ("partner", move["partner_id"]) if held else None
    pooled = lead.assigned_to_id is None and lead.owner_partner_id is None
    return ("pool", move["team_id"]) if pooled and lead.team_id == move["team_id"] else None


@transaction.atomic
def assigned(moves: Sequence[Mapping[str, Any]]) -> int:
    """Tell the receivers of leads moved by hand: one notification per receiver and mover. A
    lead that moved on since is left out. All or nothing, so a retried task tells once.
    Returns how many notifications were written. Queries per receiver, not per lead."""
    last = {move["lead_id"]: move for move in moves}
    leads = Lead.objects.only(
        "id", "first_name", "last_name", "email", "assigned_to_id", "team_id", "owner_partner_id"
    ).in_bulk(list(last))
    groups: dict[tuple[str, int, Any, str, str], list[Lead]] = defaultdict(list)
    for lead_id, move in last.items():
        lead = leads.get(lead_id)
        receiver = lead and _receiver(move, lead)
        if lead is not None and receiver:
            groups[(*receiver, move["by_user_id"], move["by"], move["reason"])].append(lead)
    wanted = {kind: {key[1] for key in groups if key[0] == kind} for kind in ("user", "partner")}
    users = User.objects.in_bulk(wanted["user"])
    partner_users: dict[int, list[User]] = defaultdict(list)
    for user in User.objects.filter(partner_id__in=wanted["partner"], role=Role.PARTNER):
        partner_users[user.partner_id or 0].append(user)
    teams = Team.objects.select_related("manager").in_bulk(
        {key[1] for key in groups if key[0] == "pool"}
    )
    made = 0
    for (kind, target, by_user_id, by, reason), group in groups.items():
        if kind == "user":
            receivers = [users[target]] if target in users else []
        elif kind == "partner":
            receivers = partner_users[target]
        else:
            team = teams.get(target)
            receivers = [team.manager] if team is not None and team.manager else []
        receivers = [user for user in receivers if user.pk != by_user_id]
        if receivers:
            made += len(_tell_moved(receivers, kind, group, by=by, reason=reason, team=teams))
    return made


def _tell_moved(
    receivers: list[User],
    kind: str,
    leads: list[Lead],
    *,
    by: str,
    reason: str,
    team: Mapping[int, Team],
) -> list[Any]:
    one = len(leads) == 1
    names = ", ".join(str(lead) for lead in leads[:NAMED_IN_SUMMARY])
    if len(leads) > NAMED_IN_SUMMARY:
        names += f" … (+{len(leads) - NAMED_IN_SUMMARY})"
    params = {"lead": str(leads[0]), "n": str(len(leads)), "by": by, "why": reason}
    params["leads"] = names
    if one:
        body = gettext_noop("From %(by)s: %(why)s") if reason else gettext_noop("From %(by)s.")
    elif reason:
        body = gettext_noop("From %(by)s: %(why)s. Leads: %(leads)s")
    else:
        body = gettext_noop("From %(by)s. Leads: %(leads)s")
    if kind == "user":
        title = (
            gettext_noop("New lead for you: %(lead)s")
            if one
            else gettext_noop("%(n)s new leads for you")
        )
        url = _url(leads[0]) if one else "/leads/?owner=me&show=open"
        note_kind = "lead_assigned" if one else "leads_assigned"
    elif kind == "partner":
        title = (
            gettext_noop("New lead for your organisation: %(lead)s")
            if one
            else gettext_noop("%(n)s new leads for your organisation")
        )
        url = _url(leads[0]) if one else "/leads/?show=open"
        note_kind = "lead_for_partner" if one else "leads_for_partner"
    else:
        pool = team[leads[0].team_id or 0]
        params["team"] = pool.name
        title = (
            gettext_noop("%(lead)s was put in the pool of %(team)s")
            if one
            else gettext_noop("%(n)s leads were put in the pool of %(team)s")
        )
        url = _url(leads[0]) if one else f"/distribution/pool/?team={pool.pk}"
        note_kind = "pool_filled_by_hand"
    return notify(
        receivers,
        kind=note_kind,
        title=title,
        body=body,
        params=params,
        url=url,
        lead_id=leads[0].pk if one else None,
    )
