"""Who hears about a routing: the rep who got the lead, the partner's users, the manager of a
team whose pool took a lead nobody could, and marketing and admins when a lead could not be
placed. Written in the routing's transaction (notifications.notify), e-mailed after it."""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext_noop

from leadloop.accounts.models import Role, Team, User
from leadloop.distribution.models import Outcome, RouteDecision
from leadloop.leads import selectors as lead_selectors
from leadloop.leads.models import Lead
from leadloop.notifications.services import notify


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
