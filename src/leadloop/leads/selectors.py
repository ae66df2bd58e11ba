"""Reads of the lead database, always scoped to what the actor may see."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import OperationalError, connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SourceActor
from leadloop.accounts.selectors import can_see_all_leads, is_staff_role, lead_visibility
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads import lifecycle
from leadloop.leads.models import (
    Activity,
    Campaign,
    Lead,
    LeadStatus,
    LostReason,
    Organization,
    SavedView,
    Source,
)
from leadloop.leads.normalize import query_tokens

# Sortable columns and how their cursor value is read back.
SORTS: dict[str, str] = {
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
class LeadPage:
    items: list[Lead]
    next_cursor: str | None
    sort: str


def _scoped(actor: Actor) -> QuerySet[Lead]:
    if can_see_all_leads(actor):
        return Lead.objects.all()
    return Lead.objects.filter(lead_visibility(actor))


def get_lead_for(actor: Actor, lead_id: int) -> Lead:
    """The lead with `lead_id` if `actor` may see it; NotFound otherwise (no hint it exists)."""
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
    return lead


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


def _search(queryset: QuerySet[Lead], q: str) -> QuerySet[Lead]:
    """Word-prefix search on name, e-mail, company and phone, through the database's text index."""
    words = query_tokens(q)
    if not words:
        # Punctuation alone ("*", "^") matches nothing rather than everything.
        return queryset.none() if q.strip() else queryset
    if connection.vendor == "sqlite":
        match = " AND ".join(f'"{w}"*' for w in words)
        return queryset.filter(
            id__in=RawSQL("SELECT rowid FROM leads_lead_fts WHERE leads_lead_fts MATCH %s", [match])
        )
    for word in words:
        queryset = queryset.filter(search_text__contains=f" {word}")
    return queryset


def _filtered(actor: Actor, filters: LeadFilters) -> QuerySet[Lead]:
    # A lead merged into another lives on inside it: lists and searches show the survivor only.
    qs = _scoped(actor).filter(merged_into__isnull=True)
    if filters.status:
        qs = qs.filter(status__in=filters.status)
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
        qs = _search(qs, filters.q)
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


def encode_cursor(value: Any, pk: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if kind == "datetime":
            value = dt.datetime.fromisoformat(value)
        elif kind == "int":
            value = int(value)
        elif not isinstance(value, str):
            raise TypeError
        return value, int(pk)
    except (ValueError, TypeError, OverflowError) as exc:
        raise ValidationFailed(
            _("The cursor is not valid."), errors={"cursor": [_("Not valid.")]}
        ) from exc


def list_leads(
    actor: Actor, filters: LeadFilters, *, cursor: str | None = None, limit: int = 50
) -> LeadPage:
    """One page of the leads `actor` may see, filtered, searched and sorted; keyset-paginated.

    Keyset pagination (sort value, id) keeps page 1,000 as fast as page 1 at a million leads.
    """
    name, descending = _parse_sort(filters.sort or DEFAULT_SORT)
    limit = max(1, min(limit, MAX_PAGE))
    qs = _filtered(actor, filters)
    if cursor:
        value, pk = decode_cursor(cursor, SORTS[name])
        op = "lt" if descending else "gt"
        # The redundant `<=` bound lets the database walk the index from the cursor on instead of
        # filtering from the first row, which keeps deep pages as fast as the first.
        qs = qs.filter(**{f"{name}__{op}e": value}).filter(
            Q(**{f"{name}__{op}": value}) | Q(**{f"pk__{op}": pk})
        )
    order = [f"-{name}", "-id"] if descending else [name, "id"]
    # Two steps: the page's ids from the bare table, then the rows with their relations. With the
    # joins in the same query SQLite picked a plan that read every unassigned lead for a rep's
    # list (0.9 s at a million leads); without them it walks the sort index (under 1 ms).
    ids = list(qs.order_by(*order).values_list("pk", flat=True)[: limit + 1])
    by_id = Lead.objects.select_related(*PAGE_RELATIONS).in_bulk(ids)
    rows = [by_id[pk] for pk in ids if pk in by_id]
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(getattr(last, name), last.pk)
    return LeadPage(items=rows, next_cursor=next_cursor, sort=("-" if descending else "") + name)


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
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [COUNT_BUDGET_MS])
            total = Lead.objects.filter(pk__in=ids).count()
    except OperationalError:
        return at_least, True
    return min(total, cap), total > cap


def iter_leads_for_export(actor: Actor, filters: LeadFilters, *, limit: int) -> QuerySet[Lead]:
    """The leads an export writes, in list order, at most `limit` of them."""
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
    the leads merged into it."""
    lead = get_lead_for(actor, lead_id)
    ids = merged_lead_ids(lead.pk)
    return list(
        Activity.objects.filter(lead_id__in=ids)
        .select_related("actor_user")
        .order_by("-created_at", "-id")[:limit]
    )


def merged_lead_ids(lead_id: int, *, depth: int = 5) -> list[int]:
    """`lead_id` and the leads merged into it, also those merged into those (a few levels)."""
    ids, level = [lead_id], [lead_id]
    for _depth in range(depth):
        level = list(Lead.objects.filter(merged_into_id__in=level).values_list("pk", flat=True))
        if not level:
            break
        ids.extend(level)
    return ids


# --- Organizations -------------------------------------------------------------------------------


@dataclass(frozen=True)
class OrganizationTree:
    organization: Organization
    ancestors: list[Organization]
    descendants: list[Organization]
    lead_count: int
    leads: list[Lead]
    by_status: dict[str, int]


def list_organizations(actor: Actor, *, q: str = "", limit: int = 100) -> list[Organization]:
    """Organisations staff can browse (partners see none: their view is their leads)."""
    if not is_staff_role(actor):
        return []
    qs = Organization.objects.all()
    if q:
        qs = qs.filter(name__icontains=q)
    return list(qs.order_by("name")[:limit])


def get_organization_tree(actor: Actor, org_id: int, *, lead_limit: int = 50) -> OrganizationTree:
    """An organisation with its parents, its whole subtree and the roll-up of the tree's leads."""
    if not is_staff_role(actor):
        raise NotFound(_("No such organisation."))
    org = Organization.objects.filter(pk=org_id).first()
    if org is None:
        raise NotFound(_("No such organisation."))
    ancestor_ids = [int(p) for p in org.path.strip("/").split("/")[:-1] if p]
    ancestors = sorted(
        Organization.objects.filter(pk__in=ancestor_ids), key=lambda o: ancestor_ids.index(o.pk)
    )
    descendants = list(
        Organization.objects.filter(path__startswith=org.path).exclude(pk=org.pk).order_by("path")
    )
    leads_qs = _scoped(actor).filter(organization__path__startswith=org.path)
    by_status = dict(
        leads_qs.order_by().values_list("status").annotate(n=Count("pk")).values_list("status", "n")
    )
    leads = list(
        leads_qs.select_related("organization", "assigned_to").order_by("-created_at")[:lead_limit]
    )
    return OrganizationTree(
        organization=org,
        ancestors=ancestors,
        descendants=descendants,
        lead_count=sum(by_status.values()),
        leads=leads,
        by_status=by_status,
    )


# --- Sources, campaigns, saved views -------------------------------------------------------------


def list_sources(actor: Actor) -> QuerySet[Source]:
    """Sources, for staff (partners do not see the company's channels)."""
    if not is_staff_role(actor):
        return Source.objects.none()
    return Source.objects.all().order_by("name")


def get_source_for(actor: Actor, source_id: int) -> Source:
    """One source, for staff."""
    source = list_sources(actor).filter(pk=source_id).first()
    if source is None:
        raise NotFound(_("No such source."))
    return source


def get_source_by_name(actor: Actor, name: str) -> Source:
    """The source called `name`, for staff."""
    source = list_sources(actor).filter(name=name).first()
    if source is None:
        raise NotFound(_("No source called %(name)r.") % {"name": name})
    return source


def list_campaigns(actor: Actor, *, source_id: int | None = None) -> QuerySet[Campaign]:
    """Campaigns, for staff, optionally of one source."""
    if not is_staff_role(actor):
        return Campaign.objects.none()
    qs = Campaign.objects.select_related("source").order_by("-starts_on", "name")
    if source_id is not None:
        qs = qs.filter(source_id=source_id)
    return qs


def get_campaign_for(actor: Actor, campaign_id: int) -> Campaign:
    """One campaign, for staff."""
    campaign = list_campaigns(actor).filter(pk=campaign_id).first()
    if campaign is None:
        raise NotFound(_("No such campaign."))
    return campaign


# --- What a write may point at ------------------------------------------------------------------
# A lead, a campaign or an organisation names other records by id. Each id is looked up among what
# the writer may see, and one the writer cannot see is answered exactly like one that does not
# exist: a field error, never the other record's name.


def list_linkable_organizations(actor: Actor) -> QuerySet[Organization]:
    """Organisations `actor` may link a lead or a branch to: those staff browse (all of them)."""
    if not is_staff_role(actor):
        return Organization.objects.none()
    return Organization.objects.all()


def list_linkable_campaigns(actor: Actor) -> QuerySet[Campaign]:
    """Campaigns `actor` may put a lead in: staff any; a source key only its own source's."""
    if isinstance(actor, SourceActor):
        return Campaign.objects.filter(source_id=actor.source_id)
    return list_campaigns(actor)


def _unknown(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def get_linkable_organization(actor: Actor, org_id: int, *, field: str) -> Organization:
    """The organisation `org_id` if `actor` may link to it; a field error on `field` otherwise."""
    org = list_linkable_organizations(actor).filter(pk=org_id).first()
    if org is None:
        raise _unknown(field, _("Unknown organisation."))
    return org


def get_linkable_campaign(actor: Actor, campaign_id: int, *, field: str) -> Campaign:
    """The campaign `campaign_id` if `actor` may use it; a field error on `field` otherwise."""
    campaign = list_linkable_campaigns(actor).filter(pk=campaign_id).first()
    if campaign is None:
        raise _unknown(field, _("Unknown campaign."))
    return campaign


def get_linkable_source(actor: Actor, source_id: int, *, field: str) -> Source:
    """The source `source_id` if `actor` may use it (staff); a field error on `field` otherwise."""
    source = list_sources(actor).filter(pk=source_id).first()
    if source is None:
        raise _unknown(field, _("Unknown source."))
    return source


def get_linkable_lead(actor: Actor, lead_id: int, *, field: str) -> Lead:
    """The lead `lead_id` if `actor` may see it; a field error on `field` otherwise."""
    try:
        return get_lead_for(actor, lead_id)
    except NotFound as exc:
        raise _unknown(field, _("Unknown lead.")) from exc


def list_saved_views(user: Any) -> QuerySet[SavedView]:
    """The user's own saved lead-list views."""
    return SavedView.objects.filter(user=user).order_by("name")


# --- Lost reasons and status actions ------------------------------------------------------------


def list_lost_reasons(actor: Actor) -> QuerySet[LostReason]:
    """The active lost reasons anyone who can see a lead may pick when marking it lost."""
    return LostReason.objects.filter(is_active=True).order_by("name")


def get_lost_reason(actor: Actor, reason_id: int) -> LostReason:
    """One active lost reason; NotFound otherwise."""
    reason = list_lost_reasons(actor).filter(pk=reason_id).first()
    if reason is None:
        raise NotFound(_("No such lost reason."))
    return reason


def find_lost_reason(actor: Actor, name: str) -> LostReason:
    """The active lost reason called `name` (as the API names it); a field error otherwise."""
    reason = list_lost_reasons(actor).filter(name__iexact=name.strip()).first()
    if reason is None:
        choices = ", ".join(list_lost_reasons(actor).values_list("name", flat=True))
        raise ValidationFailed(
            _("Unknown lost reason."),
            errors={"lost_reason": [_("Choose one of: %(choices)s.") % {"choices": choices}]},
        )
    return reason


def list_allowed_moves(actor: Actor, lead: Lead) -> list[str]:
    """Statuses `actor` may move `lead` to: the lifecycle's moves, partners fewer (as transition).

    The UI offers only buttons that can succeed, so `assigned` needs a lead with an owner.
    """
    moves = lifecycle.allowed_moves(lead.status)
    if not is_staff_role(actor):
        moves = [m for m in moves if m in lifecycle.PARTNER_MOVES]
    if not (lead.assigned_to_id or lead.owner_partner_id):
        moves = [m for m in moves if m != LeadStatus.ASSIGNED]
    return moves


# --- Privacy: one person's leads, their records, and who may still be mailed ----------------------


def can_receive_marketing(lead: Lead) -> bool:
    """Marketing mail (nurture, newsletters) may go to this lead: not opted out, not objecting to
    processing, not erased. Every sender of marketing mail checks this first."""
    return (
        lead.erased_at is None
        and lead.marketing_opt_out_at is None
        and lead.processing_objected_at is None
        and bool(lead.email)
    )


def list_person_leads(
    actor: Actor,
    *,
    lead_id: int | None = None,
    email: str = "",
    phone_e164: str = "",
    limit: int = 500,
) -> list[Lead]:
    """Every lead of one person that `actor` may see: the lead `lead_id`, or those with this
    e-mail (any case) or E.164 phone, plus the leads merged into them or they were merged into
    (a few levels). Erased leads are found by id only: their contact data is gone."""
    scoped = _scoped(actor)
    match = Q(pk__in=[])
    if lead_id is not None:
        match |= Q(pk=lead_id)
    if email.strip():
        match |= Q(email__iexact=email.strip())
    if phone_e164.strip():
        match |= Q(phone_e164=phone_e164.strip())
    ids = set(scoped.filter(match).values_list("pk", flat=True)[:limit])
    level = set(ids)
    for _depth in range(5):
        linked = set(
            scoped.filter(
                Q(merged_into_id__in=level)
                | Q(pk__in=Lead.objects.filter(pk__in=level).values("merged_into_id"))
            ).values_list("pk", flat=True)[:limit]
        )
        level = linked - ids
        if not level:
            break
        ids |= level
    return list(
        Lead.objects.filter(pk__in=ids).select_related(*PAGE_RELATIONS).order_by("created_at", "pk")
    )


def _plain_value(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def lead_record(lead: Lead) -> dict[str, Any]:
    """Every stored column of a lead as JSON-safe values (a related row as its id and name), for
    a person's copy of their data."""
    record: dict[str, Any] = {}
    for column in Lead._meta.concrete_fields:
        if column.is_relation:
            related = getattr(lead, column.name)
            record[column.name] = (
                {"id": related.pk, "name": str(related)} if related is not None else None
            )
        else:
            record[column.name] = _plain_value(getattr(lead, column.attname))
    return record


def timeline_records(lead_ids: list[int]) -> list[dict[str, Any]]:
    """The timelines of `lead_ids`, oldest first, as JSON-safe dicts."""
    return [
        {
            "lead_id": a.lead_id,
            "kind": a.kind,
            "at": a.created_at.isoformat(),
            "actor_kind": a.actor_kind,
            "actor": a.actor_label,
            "message": a.message,
            "data": a.data,
        }
        for a in Activity.objects.filter(lead_id__in=lead_ids).order_by("created_at", "pk")
    ]


def list_lead_ids_past_retention(
    *, statuses: list[str], inactive_since: dt.datetime, limit: int = 1000
) -> list[int]:
    """Unerased leads in `statuses` with no change and no timeline entry since `inactive_since`:
    the ones a retention rule erases (oldest first)."""
    recent = Activity.objects.filter(lead_id=OuterRef("pk"), created_at__gte=inactive_since)
    return list(
        # A lead merged into another follows its survivor; it is erased with it.
        Lead.objects.filter(
            status__in=statuses,
            erased_at__isnull=True,
            merged_into__isnull=True,
            updated_at__lt=inactive_since,
        )
        .exclude(Exists(recent))
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def list_lead_family(lead_id: int) -> list[Lead]:
    """A lead and the unerased leads merged into it (its whole history as one person)."""
    return list(
        Lead.objects.filter(pk__in=merged_lead_ids(lead_id), erased_at__isnull=True).order_by("pk")
    )
