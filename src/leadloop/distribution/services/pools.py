"""Pull: a team's pool is a queue by priority, and reps take the next lead or a chosen one.

A claim locks the lead's row while it checks the lead is still in the pool; "next lead" skips
rows another rep holds at that moment (PostgreSQL `SKIP LOCKED`; SQLite runs one writer at a
time), so two reps claiming at once never get the same lead and neither waits on the other. A
rep's own claims take turns on their capacity row, so their daily claim limit and most-open
limit hold even when they click twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import Role, Team, User
from leadloop.distribution import selectors
from leadloop.distribution.models import PoolAlert, PoolClaim, RepCapacity, TeamRouting
from leadloop.distribution.services import tell
from leadloop.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.events import EventName
from leadloop.leads.models import Activity, ActivityKind, Lead


def _check_claimer(user: User, team: Team) -> None:
    if (
        not user.is_active
        or user.role not in (Role.SALES_REP, Role.SALES_MANAGER)
        or team not in selectors.list_claim_teams(user)
    ):
        raise NotAllowed(_("You can take leads only from your own team's pool."))


def _check_limits(user: User, at: dt.datetime) -> None:
    """Lock the rep's capacity row (their claims take turns) and check their limits."""
    RepCapacity.objects.get_or_create(user=user)
    cap = RepCapacity.objects.select_for_update().get(user=user)
    if cap.max_open is not None and selectors.open_counts([user.pk])[user.pk] >= cap.max_open:
        raise ValidationFailed(
            _("You have %(n)d open leads, your most: finish some first.") % {"n": cap.max_open},
            errors={"limit": [_("Most open leads reached.")]},
        )
    if cap.claim_limit is not None:
        taken = PoolClaim.objects.filter(user=user, at__gte=selectors.start_of_day(at)).count()
        if taken >= cap.claim_limit:
            raise ValidationFailed(
                _("You took %(n)d leads from the pool today, your most for a day.")
                % {"n": cap.claim_limit},
                errors={"limit": [_("Daily claim limit reached.")]},
            )


def _take(lead: Lead, user: User, team: Team, *, by: Actor, at: dt.datetime) -> Lead:
    taken = lead_services.assign_lead(
        lead,
        by=by,
        to=user,
        team=team,
        reason=_("Taken from the pool of team %(team)s") % {"team": team.name},
    )
    PoolClaim.objects.create(lead=taken, user=user, team=team, at=at)
    lead_services.publish_event(
        EventName.LEAD_CLAIMED, taken.pk, by=by, at=at, user_id=user.pk, team_id=team.pk
    )
    return taken


def claim_next(user: User, *, team: Team | None = None, by: Actor | None = None) -> Lead:
    """Give `user` the highest-priority lead of `team`'s pool (their own team by default).
    Conflict when the pool is empty; ValidationFailed when a limit is reached."""
    team = team or user.team
    if team is None:
        raise NotAllowed(_("You are not in a team, so you have no pool."))
    _check_claimer(user, team)
    now = timezone.now()
    with transaction.atomic():
        _check_limits(user, now)
        lead = (
            Lead.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(selectors.in_pool(team.pk))
            .order_by("-priority", "created_at", "id")
            .first()
        )
        if lead is None:
            raise Conflict(_("The pool of team %(team)s is empty.") % {"team": team.name})
        return _take(lead, user, team, by=by or user, at=now)


def claim_lead(user: User, lead_id: int, *, by: Actor | None = None) -> Lead:
    """Give `user` the pooled lead they chose. Conflict when someone else took it first."""
    if not 0 < lead_id < 2**63:
        raise NotFound(_("No such lead."))
    now = timezone.now()
    with transaction.atomic():
        found = Lead.objects.filter(pk=lead_id).values_list("team_id", flat=True).first()
        team = Team.objects.filter(pk=found).first() if found else None
        if team is None or team not in selectors.list_claim_teams(user):
            raise NotFound(_("No such lead in your pools."))
        _check_claimer(user, team)
        _check_limits(user, now)
        lead = (
            Lead.objects.select_for_update(of=("self",))
            .filter(selectors.in_pool(team.pk), pk=lead_id)
            .first()
        )
        if lead is None:
            raise Conflict(_("Someone else took this lead first."))
        return _take(lead, user, team, by=by or user, at=now)


def pooled_since() -> Subquery:
    """When each lead last moved (its latest assignment entry): how long it sits in a pool."""
    return Subquery(
        Activity.objects.filter(lead_id=OuterRef("pk"), kind=ActivityKind.ASSIGNED)
        .order_by("-created_at", "-id")
        .values("created_at")[:1]
    )


def alert_unclaimed(*, at: dt.datetime | None = None) -> int:
    """Note every pooled lead left unclaimed past its team's alert hours (once per stay in the
    pool), for the manager's pool page. Returns how many new alerts."""
    now = at or timezone.now()
    hours = dict(TeamRouting.objects.values_list("team_id", "pool_alert_hours"))
    created = 0
    for team in Team.objects.all():
        limit = hours.get(team.pk, TeamRouting._meta.get_field("pool_alert_hours").default)
        if not limit:
            continue
        stale = (
            Lead.objects.filter(selectors.in_pool(team.pk))
            .annotate(pooled_at=pooled_since())
            .filter(Q(pooled_at__lt=now - dt.timedelta(hours=limit)))
            .values_list("pk", "pooled_at")
        )
        for lead_id, pooled_at in stale:
            with transaction.atomic():
                _alert, made = PoolAlert.objects.get_or_create(
                    lead_id=lead_id,
                    pooled_at=pooled_at,
                    defaults={"team": team, "alerted_at": now},
                )
                if made:
                    tell.unclaimed(lead_id, team, hours=limit)
            created += int(made)
    return created


def list_alerts(actor: Actor, team: Team) -> QuerySet[PoolAlert]:
    """Leads of `team`'s pool waiting too long, for its manager (and marketing, admins)."""
    if not selectors.can_manage_team_routing(actor, team):
        return PoolAlert.objects.none()
    still_pooled = Lead.objects.filter(selectors.in_pool(team.pk)).values("pk")
    return (
        PoolAlert.objects.filter(team=team, lead_id__in=still_pooled)
        .select_related("lead")
        .order_by("pooled_at")
    )
