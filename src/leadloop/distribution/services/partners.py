"""Channel partners: a lead routed to a partner is an offer it accepts or rejects within its
response time. A rejection or silence sends the lead back to routing, which then skips that
partner; the scorecard tells marketing how each partner answers and sells."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import AuditTarget, PartnerOrganization, Role, User
from leadloop.accounts.permissions import Permission, require
from leadloop.core.expressions import indexed
from leadloop.distribution.models import OfferState, PartnerOffer, PartnerRouting
from leadloop.distribution.services.actor import ROUTING
from leadloop.distribution.services.audit import record_setting_change
from leadloop.errors import Conflict, NotFound, ValidationFailed
from leadloop.leads import selectors as lead_selectors
from leadloop.leads import services as lead_services
from leadloop.leads.events import EventName
from leadloop.leads.models import ActivityKind, Lead, LeadStatus

DEFAULT_RESPONSE_HOURS = 48
MAX_REASON = 500


def offer(lead: Lead, partner: PartnerOrganization, *, at: dt.datetime) -> PartnerOffer:
    """Record that `lead` was routed to `partner` (in the routing's transaction)."""
    hours = (
        PartnerRouting.objects.filter(partner=partner)
        .values_list("response_hours", flat=True)
        .first()
    ) or DEFAULT_RESPONSE_HOURS
    return PartnerOffer.objects.create(
        lead=lead, partner=partner, offered_at=at, respond_by=at + dt.timedelta(hours=hours)
    )


def declined_partners(lead_id: int) -> set[int]:
    """Partners that rejected `lead_id` or let its offer expire: routing passes them by."""
    return set(
        PartnerOffer.objects.filter(
            lead_id=lead_id, state__in=[OfferState.REJECTED, OfferState.EXPIRED]
        ).values_list("partner_id", flat=True)
    )


def list_offers_for(actor: Actor) -> list[PartnerOffer]:
    """A partner user's offers (open ones first, then the last answered); nobody else's."""
    if not isinstance(actor, User) or actor.role != Role.PARTNER or not actor.partner_id:
        return []
    offers = PartnerOffer.objects.filter(partner_id=actor.partner_id).select_related("lead")
    open_ = list(offers.filter(state=OfferState.OFFERED).order_by("respond_by", "id")[:200])
    answered = list(offers.exclude(state=OfferState.OFFERED).order_by("-offered_at", "-id")[:50])
    # The page and the API name each lead by what the organisation's field list shows.
    lead_selectors.hide_fields_for(actor, [found.lead for found in open_ + answered])
    return open_ + answered


def count_open_offers(actor: Actor) -> int:
    if not isinstance(actor, User) or actor.role != Role.PARTNER or not actor.partner_id:
        return 0
    return PartnerOffer.objects.filter(
        partner_id=actor.partner_id, state=OfferState.OFFERED
    ).count()


def _open_offer(actor: User, offer_id: int) -> PartnerOffer:
    if actor.role != Role.PARTNER or not actor.partner_id or not 0 < offer_id < 2**63:
        raise NotFound(_("No such offer."))
    found = (
        PartnerOffer.objects.select_for_update()
        .filter(pk=offer_id, partner_id=actor.partner_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such offer."))
    if found.state != OfferState.OFFERED:
        raise Conflict(
            _("This offer was already answered: %(state)s.") % {"state": found.get_state_display()}
        )
    return found


@transaction.atomic
def accept_offer(actor: User, offer_id: int) -> PartnerOffer:
    """The partner takes the lead: it stays theirs to contact, quote and win."""
    found = _open_offer(actor, offer_id)
    now = timezone.now()
    found.state, found.responded_at, found.responded_by = OfferState.ACCEPTED, now, actor
    found.save(update_fields=["state", "responded_at", "responded_by"])
    lead = Lead.objects.get(pk=found.lead_id)
    lead_services.record_activity(
        lead, kind=ActivityKind.NOTE, by=actor, message=_("Accepted by the partner."), at=now
    )
    return found


@transaction.atomic
def reject_offer(actor: User, offer_id: int, *, reason: str) -> PartnerOffer:
    """The partner does not want the lead (a reason is required): it goes back to routing."""
    text = lead_services.clean_text(reason)[:MAX_REASON]
    if not text:
        raise ValidationFailed(
            _("Say why you reject the lead."), errors={"reason": [_("Required.")]}
        )
    found = _open_offer(actor, offer_id)
    now = timezone.now()
    found.state, found.responded_at, found.responded_by = OfferState.REJECTED, now, actor
    found.reason = text
    found.save(update_fields=["state", "responded_at", "responded_by", "reason"])
    _give_back(
        found,
        by=actor,
        reason=_("Rejected by %(partner)s: %(reason)s")
        % {"partner": found.partner.name, "reason": text},
    )
    lead_services.publish_event(
        EventName.PARTNER_REJECTED,
        found.lead_id,
        by=actor,
        at=now,
        partner_id=found.partner_id,
        offer_id=found.pk,
        reason=text,
    )
    return found


def _give_back(found: PartnerOffer, *, by: Actor, reason: str) -> None:
    lead = Lead.objects.get(pk=found.lead_id)
    if lead.owner_partner_id != found.partner_id:
        return  # already moved on (a manager reassigned it)
    lead_services.record_activity(lead, kind=ActivityKind.NOTE, by=by, message=reason)
    lead_services.release_lead(lead, by=ROUTING, reason=reason)


def expire_offers(*, at: dt.datetime | None = None) -> int:
    """Offers past their response time without an answer: the lead goes back to routing."""
    now = at or timezone.now()
    expired = 0
    due = PartnerOffer.objects.filter(
        indexed(PartnerOffer, "offer_due"), respond_by__lt=now
    ).values_list("pk", flat=True)
    for offer_id in list(due[:1000]):
        with transaction.atomic():
            found = (
                PartnerOffer.objects.select_for_update()
                .select_related("partner")
                .filter(pk=offer_id, state=OfferState.OFFERED)
                .first()
            )
            if found is None:
                continue
            found.state, found.responded_at = OfferState.EXPIRED, now
            found.save(update_fields=["state", "responded_at"])
            _give_back(
                found,
                by=ROUTING,
                reason=_("%(partner)s did not answer in time") % {"partner": found.partner.name},
            )
            expired += 1
    return expired


@dataclass(frozen=True)
class ScoreRow:
    partner: PartnerOrganization
    received: int
    accepted: int
    rejected: int
    expired: int
    open: int
    acceptance_rate: float | None
    median_response_hours: float | None
    won: int
    revenue: Decimal
    response_hours: int


def scorecard(actor: Actor) -> list[ScoreRow]:
    """Per partner: leads offered, how they answered and how fast, what they won, and the time
    they have to answer. Four queries whatever the number of partners."""
    require(actor, Permission.VIEW_ROUTING)
    states: dict[int, Counter[str]] = defaultdict(Counter)
    hours: dict[int, list[float]] = defaultdict(list)
    for partner_id, state, offered, responded in PartnerOffer.objects.values_list(
        "partner_id", "state", "offered_at", "responded_at"
    ):
        states[partner_id][state] += 1
        if responded is not None and state != OfferState.EXPIRED:
            hours[partner_id].append((responded - offered).total_seconds() / 3600)
    won = {
        row["owner_partner_id"]: (row["n"], row["total"] or Decimal("0"))
        for row in Lead.objects.filter(owner_partner__isnull=False, status=LeadStatus.WON)
        .values("owner_partner_id")
        .annotate(n=Count("id"), total=Sum("order_value"))
    }
    response = dict(PartnerRouting.objects.values_list("partner_id", "response_hours"))
    rows = []
    for partner in PartnerOrganization.objects.order_by("name"):
        counts = states[partner.pk]
        decided = (
            counts[OfferState.ACCEPTED] + counts[OfferState.REJECTED] + counts[OfferState.EXPIRED]
        )
        answers = hours[partner.pk]
        won_count, revenue = won.get(partner.pk, (0, Decimal("0")))
        rows.append(
            ScoreRow(
                partner=partner,
                received=sum(counts.values()),
                accepted=counts[OfferState.ACCEPTED],
                rejected=counts[OfferState.REJECTED],
                expired=counts[OfferState.EXPIRED],
                open=counts[OfferState.OFFERED],
                acceptance_rate=counts[OfferState.ACCEPTED] / decided if decided else None,
                median_response_hours=round(statistics.median(answers), 1) if answers else None,
                won=won_count,
                revenue=revenue,
                response_hours=response.get(partner.pk, DEFAULT_RESPONSE_HOURS),
            )
        )
    return rows


@transaction.atomic
def set_response_hours(partner: PartnerOrganization, *, by: Actor, hours: int) -> PartnerRouting:
    """How long `partner` has to accept or reject an offered lead; audited before and after."""
    require(by, Permission.CONFIGURE_ROUTING)
    if not 1 <= hours <= 720:
        raise ValidationFailed(
            _("Between 1 and 720 hours."), errors={"response_hours": [_("Out of range.")]}
        )
    before = (
        PartnerRouting.objects.select_for_update()
        .filter(partner=partner)
        .values_list("response_hours", flat=True)
        .first()
    )
    routing, _created = PartnerRouting.objects.update_or_create(
        partner=partner, defaults={"response_hours": hours}
    )
    record_setting_change(
        by=by,
        setting="partner_response_hours",
        target_type=AuditTarget.PARTNER,
        target_id=partner.pk,
        target_label=partner.name,
        before={"response_hours": before or DEFAULT_RESPONSE_HOURS},
        after={"response_hours": routing.response_hours},
    )
    return routing
