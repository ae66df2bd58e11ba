"""Reads of what leads point at: organisations, sources, campaigns, saved views, lost reasons."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SourceActor
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import is_staff_role
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads import lifecycle
from leadloop.leads.models import (
    Campaign,
    Lead,
    LeadStatus,
    LostReason,
    Organization,
    SavedView,
    Source,
)
from leadloop.leads.selectors.leads import _scoped, get_lead_for

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


def list_all_lost_reasons(actor: Actor) -> QuerySet[LostReason]:
    """Every lost reason, the inactive ones too, with how many leads were lost for it; admins."""
    if not can(actor, Permission.MANAGE_USERS):
        raise NotFound(_("Page not found."))
    return LostReason.objects.annotate(lead_count=Count("lead")).order_by("-is_active", "name")


def get_any_lost_reason(actor: Actor, reason_id: int) -> LostReason:
    """One lost reason, active or not, for an admin to manage; NotFound otherwise."""
    reason = list_all_lost_reasons(actor).filter(pk=reason_id).first()
    if reason is None:
        raise NotFound(_("No such lost reason."))
    return reason


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
