"""Reads of leads: one lead, the filtered and sorted list with its keyset cursor, the timeline."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import OperationalError, connection, transaction
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import Role, User
from leadloop.accounts.selectors import can_see_all_leads, lead_visibility
from leadloop.core.cursors import Kind
from leadloop.core.paging import Keyset, Page, paginate
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads.models import (
    CLOSED_STATUSES,
    OPEN_STATUSES,
    Activity,
    Lead,
    Organization,
)
from leadloop.leads.normalize import query_tokens
from leadloop.leads.selectors.fields import (
    fields_shown_to,
    hide_fields,
    redact_timeline,
    refuse_hidden_filters,
    search_shown_columns,
    searches_everything,
)

# Sortable columns and how their cursor value is read back.
SORTS: dict[str, Kind] = {
    "created_at": "datetime",
    "updated_at": "datetime",
    "last_name": "text",
    "priority": "int",
    "engagement_score": "int",
}
DEFAULT_SORT = "-created_at"
PAGE_RELATIONS = (
    "source",
    "campaign",
    "assigned_to",
    "team",
    "owner_partner",
    "organization",
    "lost_reason",
)
MAX_PAGE = 200
# Counting past a thousand costs more than it tells: lists say "1,000+" (measured in bench/).
COUNT_CAP = 1_000
COUNT_BUDGET_MS = 150


@dataclass(frozen=True)
class LeadFilters:
    """The filters a lead list understands; the UI, the API and exports parse into this."""

    status: tuple[str, ...] = ()
    state: str = ""  # "open", "closed" or "" for both
    assigned_to: int | None = None
    unassigned: bool = False
    team: int | None = None
    partner: int | None = None
    source: int | None = None
    campaign: int | None = None
    grade: tuple[str, ...] = ()
    organization: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    q: str = ""
    sort: str = DEFAULT_SORT
    ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class LeadPage(Page[Lead]):
    sort: str = DEFAULT_SORT


def _scoped(actor: Actor) -> QuerySet[Lead]:
    if can_see_all_leads(actor):
        return Lead.objects.all()
    return Lead.objects.filter(lead_visibility(actor))


def get_lead_for(actor: Actor, lead_id: int) -> Lead:
    """The lead with `lead_id` if `actor` may see it; NotFound otherwise (no hint it exists).

    For a partner user the fields their organisation does not show come back blank
    (`fields.hide_fields`); such a row cannot be saved, and services reload what they change.
    """
    lead = (
        _scoped(actor)
        .select_related(
            "source",
            "campaign",
            "assigned_to",
            "team",
            "owner_partner",
            "organization",
            "lost_reason",
        )
        .filter(pk=lead_id)
        .first()
    )
    if lead is None:
        raise NotFound(_("No such lead."))
    hide_fields([lead], fields_shown_to(actor))
    return lead


def require_lead_visible(actor: Actor, lead_id: int) -> None:
    """NotFound unless `actor` may see the lead: `get_lead_for`'s check without loading the
    lead and its relations, for readers of what hangs off a lead (its timeline, its mails).
    On PostgreSQL the seven-table read cost about 5 ms to plan; this costs a fraction."""
    if not _scoped(actor).filter(pk=lead_id).exists():
        raise NotFound(_("No such lead."))


def get_lead_sent_by(actor: SourceActor, lead_id: int) -> Lead:
    """A lead of the source whose key posted it, for the answer to that post.

    Source keys list and read nothing otherwise; NotFound for another source's lead.
    """
    lead = (
        Lead.objects.select_related("source", "campaign", "organization")
        .filter(pk=lead_id, source_id=actor.source_id)
        .first()
    )
    if lead is None:
        raise NotFound(_("No such lead."))
    return lead


def _search(queryset: QuerySet[Lead], q: str, *, actor: Actor) -> QuerySet[Lead]:
    """Word-prefix search on name, e-mail, company and phone, through the database's text index;
    for a partner who is not shown all four, a search of the columns they are shown."""
    words = query_tokens(q)
    if not words:
        # Punctuation alone ("*", "^") matches nothing rather than everything.
        return queryset.none() if q.strip() else queryset
    view = fields_shown_to(actor)
    if not searches_everything(view):
        return search_shown_columns(queryset, words, view)
    if connection.vendor == "sqlite":
        match = " AND ".join(f'"{w}"*' for w in words)
        return queryset.filter(
            id__in=RawSQL("SELECT rowid FROM leads_lead_fts WHERE leads_lead_fts MATCH %s", [match])
        )
    for word in words:
        queryset = queryset.filter(search_text__contains=f" {word}")
    return queryset


def _filtered(actor: Actor, filters: LeadFilters) -> QuerySet[Lead]:
    refuse_hidden_filters(
        fields_shown_to(actor),
        given={
            "source": filters.source,
            "campaign": filters.campaign,
            "grade": filters.grade,
            "organization": filters.organization,
        },
        sort=filters.sort,
    )
    # A lead merged into another lives on inside it: lists and searches show the survivor only.
    qs = _scoped(actor).filter(merged_into__isnull=True)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
    if filters.state == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif filters.state == "closed":
        qs = qs.filter(status__in=CLOSED_STATUSES)
    if filters.assigned_to is not None:
        qs = qs.filter(assigned_to_id=filters.assigned_to)
    if filters.unassigned:
        qs = qs.filter(assigned_to__isnull=True)
    if filters.team is not None:
        qs = qs.filter(team_id=filters.team)
    if filters.partner is not None:
        qs = qs.filter(owner_partner_id=filters.partner)
    if filters.source is not None:
        qs = qs.filter(source_id=filters.source)
    if filters.campaign is not None:
        qs = qs.filter(campaign_id=filters.campaign)
    if filters.grade:
        qs = qs.filter(fit_grade__in=filters.grade)
    if filters.organization is not None:
        org = Organization.objects.filter(pk=filters.organization).first()
        if org is None:
            return qs.none()
        qs = qs.filter(organization__path__startswith=org.path)
    # Day bounds in the viewer's time zone, compared on the bare column so the index is used.
    if filters.created_from:
        qs = qs.filter(created_at__gte=_start_of_day(filters.created_from))
    if filters.created_to:
        qs = qs.filter(created_at__lt=_start_of_day(filters.created_to + dt.timedelta(days=1)))
    if filters.ids:
        qs = qs.filter(pk__in=filters.ids)
    if filters.q:
        qs = _search(qs, filters.q, actor=actor)
    return qs


def _start_of_day(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _parse_sort(sort: str) -> tuple[str, bool]:
    descending = sort.startswith("-")
    name = sort.lstrip("-")
    if name not in SORTS:
        raise ValidationFailed(
            _("Cannot sort by %(name)r.") % {"name": name},
            errors={"sort": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(SORTS)}]},
        )
    return name, descending


def list_leads(
    actor: Actor, filters: LeadFilters, *, cursor: str | None = None, limit: int = 50
) -> LeadPage:
    """One page of the leads `actor` may see, filtered, searched and sorted; keyset-paginated,
    forwards and back (core.paging), so page 1,000 is as fast as page 1 at a million leads."""
    name, descending = _parse_sort(filters.sort or DEFAULT_SORT)
    limit = max(1, min(limit, MAX_PAGE))
    # The page's ids come from the bare table, then the rows with their relations. With the
    # joins in the same query SQLite picked a plan that read every unassigned lead for a rep's
    # list (0.9 s at a million leads); without them it walks the sort index (under 1 ms).
    page = paginate(
        _filtered(actor, filters),
        Keyset((name,), (SORTS[name],), descending=descending),
        cursor=cursor,
        limit=limit,
        load=Lead.objects.select_related(*PAGE_RELATIONS).in_bulk,
    )
    hide_fields(page.items, fields_shown_to(actor))
    return LeadPage(
        items=page.items,
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
        start=page.start,
        sort=("-" if descending else "") + name,
    )


def count_leads(
    actor: Actor, filters: LeadFilters, *, cap: int = COUNT_CAP, at_least: int = 0
) -> tuple[int, bool]:
    """How many leads match, counted up to `cap`; the flag says the real number is larger.

    On PostgreSQL the count gets a time budget: with a search and a rep's visibility the planner
    can misjudge a capped count into a full scan (0.45 s at a million leads). Past the budget the
    answer is "at least `at_least`", which the caller knows from the page it already has.
    """
    ids = _filtered(actor, filters).order_by().values("pk")[: cap + 1]
    if connection.vendor != "postgresql":
        total = ids.count()
        return min(total, cap), total > cap
    # Inside an outer transaction the block below is a savepoint, and releasing it keeps a SET
    # LOCAL until the outer commit: every later query would have the budget too. There the
    # setting is noted as it is set, and put back after the count.
    outer = connection.in_atomic_block
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            if outer:
                cursor.execute(
                    "SELECT current_setting('statement_timeout'), "
                    "set_config('statement_timeout', %s, true)",
                    [str(COUNT_BUDGET_MS)],
                )
                before = cursor.fetchone()[0]
            else:
                cursor.execute("SET LOCAL statement_timeout = %s", [COUNT_BUDGET_MS])
            total = Lead.objects.filter(pk__in=ids).count()
            if outer:
                cursor.execute("SELECT set_config('statement_timeout', %s, true)", [before])
    except OperationalError:
        return at_least, True  # (the savepoint's rollback undid the budget)
    return min(total, cap), total > cap


def iter_leads_for_export(actor: Actor, filters: LeadFilters, *, limit: int) -> QuerySet[Lead]:
    """The leads an export writes, in list order, at most `limit` of them (the export leaves
    out the columns `fields_shown_to(actor)` hides)."""
    name, descending = _parse_sort(filters.sort or DEFAULT_SORT)
    order = [f"-{name}", "-id"] if descending else [name, "id"]
    return (
        _filtered(actor, filters)
        .select_related(
            "source", "campaign", "assigned_to", "team", "owner_partner", "organization"
        )
        .order_by(*order)[:limit]
    )


def list_leads_by_ids(actor: Actor, ids: list[int]) -> list[Lead]:
    """The visible leads among `ids` (bulk actions act on these only)."""
    return list(_scoped(actor).filter(pk__in=ids[: MAX_PAGE * 5]).order_by("pk"))


def list_timeline(actor: Actor, lead_id: int, *, limit: int = 200) -> list[Activity]:
    """A lead's timeline, newest first, if `actor` may see the lead; it includes the history of
    the leads merged into it. A partner user reads it without what their list hides."""
    require_lead_visible(actor, lead_id)
    ids = merged_lead_ids(lead_id)
    entries = (
        Activity.objects.filter(lead_id__in=ids)
        .select_related("actor_user")
        .order_by("-created_at", "-id")[:limit]
    )
    return redact_timeline(entries, fields_shown_to(actor))


def merged_lead_ids(lead_id: int, *, depth: int = 5) -> list[int]:
    """`lead_id` and the leads merged into it, also those merged into those (a few levels)."""
    ids, level = [lead_id], [lead_id]
    for _depth in range(depth):
        level = list(Lead.objects.filter(merged_into_id__in=level).values_list("pk", flat=True))
        if not level:
            break
        ids.extend(level)
    return ids


def can_move_leads_of(actor: Actor, owner: User) -> bool:
    """Whether `actor` may hand on the leads `owner` works: admins, marketing and the system
    anyone's (a deactivated rep's too), a manager those of the people in the teams they run (and
    their own), a rep or a partner nobody's."""
    if not isinstance(actor, User):
        return isinstance(actor, SystemActor)
    if actor.role in (Role.ADMIN, Role.MARKETING):
        return True
    if actor.role == Role.SALES_MANAGER:
        return owner.pk == actor.pk or (
            owner.team_id is not None and actor.managed_teams.filter(pk=owner.team_id).exists()
        )
    return False


def list_lead_owners_for(actor: Actor) -> QuerySet[User]:
    """Sales users, active or not, whose leads `actor` may hand on (the Move leads page)."""
    users = User.objects.filter(role__in=[Role.SALES_REP, Role.SALES_MANAGER]).select_related(
        "team"
    )
    if isinstance(actor, SystemActor) or (
        isinstance(actor, User) and actor.role in (Role.ADMIN, Role.MARKETING)
    ):
        return users.order_by("first_name", "last_name", "pk")
    if isinstance(actor, User) and actor.role == Role.SALES_MANAGER:
        teams = actor.managed_teams.values_list("pk", flat=True)
        return users.filter(Q(team_id__in=teams) | Q(pk=actor.pk)).order_by("first_name", "pk")
    return users.none()


def get_lead_owner_for(actor: Actor, user_id: int) -> User:
    """A sales user whose leads `actor` may hand on; NotFound otherwise (no hint they exist)."""
    user = list_lead_owners_for(actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound(_("No such person."))
    return user
