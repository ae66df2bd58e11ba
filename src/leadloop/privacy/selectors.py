"""Who may act on a person's data, finding the person, and the retention rules.

A person's data spans every lead they left (merged ones included) and the submissions those
came from, so these reads are for admins and marketing, who see every lead anyway.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import Role, User
from leadloop.accounts.selectors import get_defaults, is_staff_role
from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from leadloop.intake import selectors as intake_selectors
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.models import Lead
from leadloop.leads.normalize import (
    InvalidValue,
    normalize_email,
    normalize_phone,
    phone_tokens,
)
from leadloop.privacy.models import RetentionRule


def _has_role(actor: Actor, *roles: str) -> bool:
    return isinstance(actor, SystemActor) or (
        isinstance(actor, User) and actor.is_active and actor.role in roles
    )


def can_export_person(actor: Actor) -> bool:
    """Admins and marketing answer a person's request for a copy of their data."""
    return _has_role(actor, Role.ADMIN, Role.MARKETING)


def can_erase_person(actor: Actor) -> bool:
    """Only admins erase: it cannot be undone."""
    return _has_role(actor, Role.ADMIN)


def can_record_objection(actor: Actor) -> bool:
    """Anyone of the company's own staff who sees the lead notes an objection (a rep hears it
    on the phone first); partners and source keys do not."""
    return is_staff_role(actor)


def can_manage_retention(actor: Actor) -> bool:
    """Admins change how long data is kept; marketing may read the rules."""
    return _has_role(actor, Role.ADMIN)


def require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed(_("You may not handle privacy requests."))


@dataclass(frozen=True)
class PersonQuery:
    """How a person was looked up: a lead's id, an e-mail address or a phone number."""

    lead_id: int | None = None
    email: str = ""
    phone: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"lead_id": self.lead_id, "email": self.email, "phone": self.phone}


@dataclass(frozen=True)
class Person:
    """Everything stored about one person: their leads, and submissions that never became one."""

    query: PersonQuery
    leads: list[Lead] = field(default_factory=list)
    unlinked_submission_ids: list[int] = field(default_factory=list)
    phone_e164: str = ""

    @property
    def lead_ids(self) -> list[int]:
        return [lead.pk for lead in self.leads]

    @property
    def is_empty(self) -> bool:
        return not self.leads and not self.unlinked_submission_ids


def parse_query(*, lead_id: int | None = None, email: str = "", phone: str = "") -> PersonQuery:
    """Check a lookup: exactly one of lead id, e-mail or phone (ValidationFailed otherwise)."""
    email, phone = (email or "").strip(), (phone or "").strip()
    given = [v for v in (lead_id, email, phone) if v]
    if len(given) != 1:
        raise ValidationFailed(
            _("Look a person up by one lead number, e-mail address or phone number."),
            errors={"email": [_("Give exactly one of lead, e-mail or phone.")]},
        )
    if len(email) > 254 or len(phone) > 64:
        raise ValidationFailed(_("That is too long."), errors={"email": [_("Too long.")]})
    return PersonQuery(lead_id=lead_id, email=email, phone=phone)


def _with_same_contact(actor: Actor, leads: list[Lead]) -> list[Lead]:
    """`leads` and every lead with one of their e-mail addresses or E.164 phones (with merge
    families), as an e-mail or phone query finds them; one round, not a closure."""
    found = {lead.pk: lead for lead in leads}
    for email in sorted({lead.email for lead in leads if lead.email}):
        found |= {lead.pk: lead for lead in leads_selectors.list_person_leads(actor, email=email)}
    for phone in sorted({lead.phone_e164 for lead in leads if lead.phone_e164}):
        found |= {
            lead.pk: lead for lead in leads_selectors.list_person_leads(actor, phone_e164=phone)
        }
    return sorted(found.values(), key=lambda lead: (lead.created_at, lead.pk))


def find_person(actor: Actor, query: PersonQuery) -> Person:
    """The person `query` names: their leads (NotFound for a lead number `actor` cannot see),
    plus the refused and waiting submissions that mention their e-mail address or phone.

    A lead number stands for the person who left it: their other leads with the same e-mail
    address or phone are found too, so erasing "lead 123" erases the person, not one record.
    """
    require(can_export_person(actor))
    phone_e164 = ""
    if query.phone:
        try:
            phone_e164 = normalize_phone(query.phone, region=get_defaults().country)
        except InvalidValue as exc:
            raise ValidationFailed(str(exc), errors={"phone": [str(exc)]}) from exc
    email = query.email
    if email:
        try:
            email = normalize_email(email)
        except InvalidValue:
            email = query.email  # an address we could never have stored normalised: look as is
    leads = leads_selectors.list_person_leads(
        actor, lead_id=query.lead_id, email=email, phone_e164=phone_e164
    )
    if query.lead_id is not None and not leads:
        raise NotFound(_("No such lead."))
    emails = {email} if email else set()
    phones = set(phone_tokens(phone_e164, query.phone))
    if query.lead_id is not None:
        leads = _with_same_contact(actor, leads)
        emails |= {lead.email for lead in leads if lead.email}
        for lead in leads:
            phones |= set(phone_tokens(lead.phone_e164, lead.phone_raw))
    unlinked = intake_selectors.list_unlinked_submissions_mentioning(
        emails=sorted(emails), phones=sorted(phones)
    )
    return Person(query=query, leads=leads, unlinked_submission_ids=unlinked, phone_e164=phone_e164)


def list_retention_rules(actor: Actor) -> QuerySet[RetentionRule]:
    """Every retention rule, for admins and marketing."""
    require(can_export_person(actor))
    return RetentionRule.objects.all()


def list_active_rules() -> list[RetentionRule]:
    """The rules the daily job applies (no actor: the job runs as the system)."""
    return list(RetentionRule.objects.filter(is_active=True))
