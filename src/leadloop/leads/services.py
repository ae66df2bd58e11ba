"""The verbs of the lead database: create, update, move through the lifecycle, assign, log.

Every change writes the timeline (Activity) in the same transaction. Callers resolve visibility
first through `selectors.get_lead_for`; the services check what needs the lead's state.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from leadloop.accounts import selectors as accounts_selectors
from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import PartnerOrganization, Role, Team, User
from leadloop.errors import InvalidTransition, NotAllowed, NotFound, ValidationFailed
from leadloop.leads import lifecycle
from leadloop.leads.models import (
    Activity,
    ActivityKind,
    ActorKind,
    BantAnswer,
    Campaign,
    ChannelKind,
    CostEntry,
    FitGrade,
    Lead,
    LeadStatus,
    LostReason,
    Organization,
    SavedView,
    Source,
)
from leadloop.leads.normalize import (
    InvalidValue,
    build_search_text,
    normalize_country,
    normalize_email,
    normalize_phone,
)

# Plain text fields a person or a sender may set, with the model's length limits.
TEXT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "country",
    "job_title",
    "language",
    "company_name",
    "consent_purpose",
    "consent_text_version",
    "external_ref",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "landing_page",
)
CHOICE_FIELDS = {
    "fit_grade": FitGrade.values,
    "bant_budget": BantAnswer.values,
    "bant_authority": BantAnswer.values,
    "bant_need": BantAnswer.values,
    "bant_timeframe": BantAnswer.values,
}
MONEY_FIELDS = ("potential_revenue", "order_value")
DATETIME_FIELDS = ("consent_at", "next_follow_up_at")
# Every input name `clean_lead_input` accepts. `phone` fills phone_raw and phone_e164.
INPUT_FIELDS = frozenset((*TEXT_FIELDS, *CHOICE_FIELDS, *MONEY_FIELDS, *DATETIME_FIELDS)) | {
    "phone",
    "probability",
    "currency",
    "organization_id",
    "campaign_id",
    "extra",
}
# Fields whose change is written to the timeline (the search text and stamps are derived).
TRACKED_FIELDS = (
    *TEXT_FIELDS,
    *CHOICE_FIELDS,
    *MONEY_FIELDS,
    *DATETIME_FIELDS,
    "phone_raw",
    "phone_e164",
    "probability",
    "currency",
    "organization_id",
    "campaign_id",
    "extra",
)


def _actor_columns(by: Actor) -> dict[str, Any]:
    if isinstance(by, SystemActor):
        return {"actor_kind": ActorKind.SYSTEM, "actor_label": by.label}
    if isinstance(by, SourceActor):
        return {"actor_kind": ActorKind.SOURCE, "actor_label": by.source_name}
    kind = ActorKind.PARTNER if by.role == Role.PARTNER else ActorKind.USER
    return {"actor_kind": kind, "actor_user": by, "actor_label": by.display_name}


def record_activity(
    lead: Lead,
    *,
    kind: str,
    by: Actor,
    message: str = "",
    data: Mapping[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> Activity:
    """Append one entry to a lead's timeline."""
    return Activity.objects.create(
        lead=lead,
        kind=kind,
        message=message,
        data=dict(data or {}),
        created_at=at or timezone.now(),
        **_actor_columns(by),
    )


# --- Validation ----------------------------------------------------------------------------------


def _max_length(field: str) -> int | None:
    return Lead._meta.get_field(field).max_length  # type: ignore[union-attr]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal):
        return str(value)
    if not isinstance(value, str):
        raise InvalidValue(_("Expected text."))
    if "\x00" in value:
        raise InvalidValue(_("Contains a NUL character, which cannot be stored."))
    return value.strip()


def _decimal(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", ".") if isinstance(value, str) else str(value))
    except InvalidOperation as exc:
        raise InvalidValue(_("Expected an amount like 1250.00.")) from exc
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise InvalidValue(_("Expected an amount between 0 and 999,999,999,999."))
    return amount.quantize(Decimal("0.01"))


def _datetime(value: Any) -> dt.datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is None:
        raise InvalidValue(_("Expected a date and time like 2026-05-01T09:30:00+02:00."))
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, timezone.get_current_timezone())
    return parsed


def clean_lead_input(data: Mapping[str, Any], *, default_region: str) -> dict[str, Any]:
    """Validate and normalise lead input into model values; ValidationFailed lists every bad field.

    Unknown names are an error, not silently dropped, so a sender learns about a typo at once.
    """
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    unknown = sorted(set(data) - INPUT_FIELDS)
    for name in unknown:
        errors.setdefault(name, []).append(_("Unknown field."))

    def attempt(name: str, fn: Any) -> None:
        if name not in data:
            return
        try:
            values.update(fn(data[name]))
        except InvalidValue as exc:
            errors.setdefault(name, []).append(str(exc))

    for name in TEXT_FIELDS:

        def text_value(raw: Any, name: str = name) -> dict[str, Any]:
            text = _text(raw)
            limit = _max_length(name)
            if limit and len(text) > limit:
                raise InvalidValue(_("At most %(limit)d characters.") % {"limit": limit})
            return {name: text}

        attempt(name, text_value)
    attempt("email", lambda raw: {"email": normalize_email(_text(raw))})
    attempt("country", lambda raw: {"country": normalize_country(_text(raw))})
    region = values.get("country") or default_region or settings.LEADLOOP_DEFAULT_COUNTRY

    def phone_value(raw: Any) -> dict[str, Any]:
        text = _text(raw)
        if len(text) > 64:
            raise InvalidValue(_("At most 64 characters."))
        return {"phone_raw": text, "phone_e164": normalize_phone(text, region=region)}

    attempt("phone", phone_value)
    for name, allowed in CHOICE_FIELDS.items():

        def choice_value(
            raw: Any, name: str = name, allowed: list[str] = allowed
        ) -> dict[str, Any]:
            text = _text(raw)
            if text not in allowed:
                choices = ", ".join(a or _("(empty)") for a in allowed)
                raise InvalidValue(_("Choose one of: %(choices)s.") % {"choices": choices})
            return {name: text}

        attempt(name, choice_value)
    for name in MONEY_FIELDS:
        attempt(name, lambda raw, name=name: {name: _decimal(raw)})
    for name in DATETIME_FIELDS:
        attempt(name, lambda raw, name=name: {name: _datetime(raw)})

    def probability_value(raw: Any) -> dict[str, Any]:
        if raw in (None, ""):
            return {"probability": None}
        try:
            number = int(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidValue(_("Expected a whole percentage from 0 to 100.")) from exc
        if not 0 <= number <= 100:
            raise InvalidValue(_("Expected a whole percentage from 0 to 100."))
        return {"probability": number}

    attempt("probability", probability_value)

    def currency_value(raw: Any) -> dict[str, Any]:
        text = _text(raw).upper() or settings.LEADLOOP_DEFAULT_CURRENCY
        if len(text) != 3 or not text.isalpha():
            raise InvalidValue(_("Expected a three-letter currency code like EUR."))
        return {"currency": text}

    attempt("currency", currency_value)

    def reference(model: type[Organization] | type[Campaign], field: str) -> Any:
        def check(raw: Any) -> dict[str, Any]:
            if raw in (None, ""):
                return {field: None}
            try:
                pk = int(raw)
            except (TypeError, ValueError) as exc:
                raise InvalidValue(_("Expected an id.")) from exc
            if not model.objects.filter(pk=pk).exists():
                raise InvalidValue(_("No such record."))
            return {field: pk}

        return check

    attempt("organization_id", reference(Organization, "organization_id"))
    attempt("campaign_id", reference(Campaign, "campaign_id"))

    def extra_value(raw: Any) -> dict[str, Any]:
        if raw is None:
            return {"extra": {}}
        if not isinstance(raw, dict):
            raise InvalidValue(_("Expected an object of extra fields."))
        return {"extra": raw}

    attempt("extra", extra_value)
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return values


def _refresh_search_text(lead: Lead) -> None:
    lead.search_text = build_search_text(
        first_name=lead.first_name,
        last_name=lead.last_name,
        email=lead.email,
        company_name=lead.company_name,
        phone_e164=lead.phone_e164,
        phone_raw=lead.phone_raw,
    )


def _display(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


# --- Leads ---------------------------------------------------------------------------------------


def _check_source_actor(by: Actor, source: Source) -> None:
    if isinstance(by, SourceActor) and by.source_id != source.pk:
        raise NotAllowed(_("This key may only submit leads to its own source."))


@transaction.atomic
def create_lead(
    data: Mapping[str, Any],
    *,
    source: Source,
    by: Actor,
    at: dt.datetime | None = None,
) -> Lead:
    """Create a lead from validated input; a rep's new lead is theirs, a partner's their org's."""
    _check_source_actor(by, source)
    if isinstance(by, User) and not by.is_active:
        raise NotAllowed(_("Inactive users cannot create leads."))
    values = clean_lead_input(data, default_region=source.default_country)
    if (
        values.get("campaign_id")
        and not Campaign.objects.filter(pk=values["campaign_id"], source=source).exists()
    ):
        raise ValidationFailed(
            _("The campaign belongs to another source."),
            errors={"campaign_id": [_("This campaign belongs to another source.")]},
        )
    if (
        values.get("external_ref")
        and Lead.objects.filter(source=source, external_ref=values["external_ref"]).exists()
    ):
        raise ValidationFailed(
            _("A lead with this external reference exists for this source."),
            errors={"external_ref": [_("Already used for this source.")]},
        )
    now = at or timezone.now()
    lead = Lead(source=source, created_at=now, updated_at=now, **values)
    if not lead.language and source.default_language:
        lead.language = source.default_language
    if isinstance(by, User):
        lead.created_by = by
        if by.role == Role.SALES_REP:
            lead.assigned_to = by
            lead.team_id = by.team_id
        elif by.role == Role.SALES_MANAGER:
            # A manager's new lead lands in their team's pool, so it stays visible to them.
            lead.team_id = by.team_id or by.managed_teams.values_list("pk", flat=True).first()
            if lead.team_id is None:
                lead.assigned_to = by
        elif by.role == Role.PARTNER:
            lead.owner_partner_id = by.partner_id
    _refresh_search_text(lead)
    lead.save()
    record_activity(
        lead, kind=ActivityKind.CREATED, by=by, message=f"Created from {source.name}", at=now
    )
    return lead


@transaction.atomic
def update_lead(lead: Lead, data: Mapping[str, Any], *, by: Actor) -> Lead:
    """Change a lead's fields; every changed field goes on the timeline as old → new.

    Status and ownership are not fields here: they change through `transition` and `assign_lead`.
    """
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    region = (data.get("country") if isinstance(data.get("country"), str) else "") or (
        locked.country or locked.source.default_country
    )
    values = clean_lead_input(data, default_region=region)
    changes = []
    for name, new in values.items():
        old = getattr(locked, name)
        if old != new:
            changes.append({"field": name, "old": _display(old), "new": _display(new)})
            setattr(locked, name, new)
    if not changes:
        return locked
    _refresh_search_text(locked)
    locked.updated_at = timezone.now()
    locked.save()
    record_activity(
        locked,
        kind=ActivityKind.FIELD_CHANGED,
        by=by,
        message=", ".join(c["field"] for c in changes),
        data={"changes": changes},
    )
    return locked


@transaction.atomic
def transition(
    lead: Lead,
    *,
    to: str,
    by: Actor,
    lost_reason: LostReason | None = None,
    order_value: Decimal | None = None,
    note: str = "",
) -> Lead:
    """Move a lead to another status, if the lifecycle allows it, and write the timeline.

    Locks the lead row, so two people pressing "won" and "lost" at once cannot both succeed.
    """
    if to not in LeadStatus.values:
        raise InvalidTransition(_("Unknown status %(status)r.") % {"status": to})
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    old = locked.status
    if to not in lifecycle.ALLOWED_MOVES[old]:
        raise InvalidTransition(
            _("A lead cannot move from %(old)s to %(new)s.")
            % {"old": LeadStatus(old).label, "new": LeadStatus(to).label},
            errors={
                "to": [
                    _("Allowed from %(old)s: %(moves)s.")
                    % {
                        "old": LeadStatus(old).label,
                        "moves": ", ".join(
                            str(LeadStatus(m).label) for m in lifecycle.allowed_moves(old)
                        )
                        or _("none"),
                    }
                ]
            },
        )
    if isinstance(by, User) and by.role == Role.PARTNER and to not in lifecycle.PARTNER_MOVES:
        raise NotAllowed(_("Partner users can record contact, quotes, won and lost only."))
    if to == LeadStatus.ASSIGNED and not (locked.assigned_to_id or locked.owner_partner_id):
        raise InvalidTransition(
            _("Assign the lead to a person or a partner first."),
            errors={"to": [_("An assigned lead needs an owner.")]},
        )
    if to == LeadStatus.LOST and lost_reason is None:
        raise ValidationFailed(
            _("Say why the lead was lost."),
            errors={"lost_reason": [_("Required when a lead is lost.")]},
        )
    now = timezone.now()
    data: dict[str, Any] = {"from": old, "to": to}
    locked.status = to
    locked.status_changed_at = now
    locked.updated_at = now
    if to == LeadStatus.LOST:
        locked.lost_reason = lost_reason
        data["lost_reason"] = lost_reason.name if lost_reason else ""
    if to == LeadStatus.WON and order_value is not None:
        locked.order_value = order_value
        data["order_value"] = str(order_value)
    if to == LeadStatus.CONTACTED:
        locked.last_contacted_at = now
    if to in lifecycle.CLOSED:
        locked.closed_at = now
    elif old in lifecycle.CLOSED:
        locked.closed_at = None
    locked.save()
    record_activity(
        locked, kind=ActivityKind.STATUS_CHANGED, by=by, message=note, data=data, at=now
    )
    return locked


@transaction.atomic
def assign_lead(
    lead: Lead,
    *,
    by: Actor,
    to: User | None = None,
    team: Team | None = None,
    partner: PartnerOrganization | None = None,
) -> Lead:
    """Give a lead to a person (and their team), to a team's pool, or to a partner.

    A lead that was not yet being worked moves to `assigned` when it gets an owner.
    """
    if to is None and team is None and partner is None:
        raise ValidationFailed(
            _("Choose a person, a team or a partner."), errors={"to": [_("Required.")]}
        )
    if isinstance(by, User) and by.role == Role.PARTNER:
        raise NotAllowed(_("Partner users cannot reassign leads."))
    if to is not None and (not to.is_active or to.role not in (Role.SALES_REP, Role.SALES_MANAGER)):
        raise ValidationFailed(
            _("Leads go to active sales reps and managers."),
            errors={"to": [_("Not a sales user.")]},
        )
    if isinstance(by, User) and by.role == Role.SALES_REP and to is not None and to.pk != by.pk:
        raise NotAllowed(_("Reps can take leads for themselves only."))
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    before = {
        "assigned_to": locked.assigned_to.display_name if locked.assigned_to else None,
        "team": locked.team.name if locked.team else None,
        "partner": locked.owner_partner.name if locked.owner_partner else None,
    }
    locked.assigned_to = to
    locked.team = team or (to.team if to is not None else None)
    locked.owner_partner = partner
    now = timezone.now()
    locked.updated_at = now
    locked.save()
    after = {
        "assigned_to": to.display_name if to else None,
        "team": locked.team.name if locked.team else None,
        "partner": partner.name if partner else None,
    }
    record_activity(
        locked, kind=ActivityKind.ASSIGNED, by=by, data={"before": before, "after": after}, at=now
    )
    if (to is not None or partner is not None) and locked.status in (
        LeadStatus.NEW,
        LeadStatus.NURTURING,
        LeadStatus.SALES_READY,
    ):
        locked = transition(locked, to=LeadStatus.ASSIGNED, by=by)
    return locked


def resolve_assignee(
    *, by: Actor, user_id: int | None, team_id: int | None, partner_id: int | None
) -> dict[str, Any]:
    """Turn ids into the person, team pool or partner `by` may hand a lead to."""
    if isinstance(by, User) and by.role == Role.PARTNER:
        raise NotAllowed(_("Partner users cannot reassign leads."))
    errors: dict[str, list[str]] = {}
    target: dict[str, Any] = {}
    if user_id is not None:
        target["to"] = accounts_selectors.list_assignable_users(by).filter(pk=user_id).first()
        if target["to"] is None:
            errors["user_id"] = [_("You cannot assign leads to this user.")]
    if team_id is not None:
        target["team"] = accounts_selectors.get_team_for(by, team_id)
        if target["team"] is None:
            errors["team_id"] = [_("No such team.")]
    if partner_id is not None:
        target["partner"] = accounts_selectors.get_partner_for(by, partner_id)
        if target["partner"] is None:
            errors["partner_id"] = [_("No such partner.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors=errors)
    return target


LOGGABLE_KINDS = (ActivityKind.NOTE, ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING)


@transaction.atomic
def log_activity(lead: Lead, *, kind: str, message: str, by: Actor) -> Activity:
    """Log a note, call, e-mail or meeting on a lead's timeline."""
    if kind not in LOGGABLE_KINDS:
        raise ValidationFailed(
            _("Choose note, call, e-mail or meeting."), errors={"kind": [_("Not a loggable kind.")]}
        )
    text = _text(message)
    if not text:
        raise ValidationFailed(_("Write something."), errors={"message": [_("Required.")]})
    activity = record_activity(lead, kind=kind, by=by, message=text)
    Lead.objects.filter(pk=lead.pk).update(updated_at=activity.created_at)
    if kind in (ActivityKind.CALL, ActivityKind.EMAIL, ActivityKind.MEETING):
        Lead.objects.filter(pk=lead.pk).update(last_contacted_at=activity.created_at)
    return activity


@dataclass(frozen=True)
class BulkResult:
    changed: int
    failed: dict[int, str]


def bulk_transition(leads: Iterable[Lead], *, to: str, by: Actor, **kwargs: Any) -> BulkResult:
    """Move many leads; each one is its own transaction, and refusals are reported per lead."""
    changed, failed = 0, {}
    for lead in leads:
        try:
            transition(lead, to=to, by=by, **kwargs)
            changed += 1
        except (InvalidTransition, NotAllowed, ValidationFailed) as exc:
            failed[lead.pk] = exc.detail
    return BulkResult(changed=changed, failed=failed)


def bulk_assign(leads: Iterable[Lead], *, by: Actor, **kwargs: Any) -> BulkResult:
    """Assign many leads; refusals are reported per lead."""
    changed, failed = 0, {}
    for lead in leads:
        try:
            assign_lead(lead, by=by, **kwargs)
            changed += 1
        except (InvalidTransition, NotAllowed, ValidationFailed) as exc:
            failed[lead.pk] = exc.detail
    return BulkResult(changed=changed, failed=failed)


# --- Organizations -------------------------------------------------------------------------------


def _require_staff(by: Actor) -> None:
    if isinstance(by, SourceActor) or (isinstance(by, User) and by.role == Role.PARTNER):
        raise NotAllowed(_("Only company staff can do this."))


@transaction.atomic
def create_organization(
    *, name: str, by: Actor, parent: Organization | None = None, **fields: Any
) -> Organization:
    """Create an organisation, optionally as a branch of `parent`."""
    _require_staff(by)
    name = _text(name)
    if not name:
        raise ValidationFailed(_("A name is required."), errors={"name": [_("Required.")]})
    org = Organization.objects.create(name=name[:255], parent=parent, **fields)
    org.path = f"{parent.path if parent else '/'}{org.pk}/"
    org.save(update_fields=["path"])
    return org


@transaction.atomic
def move_organization(org: Organization, *, parent: Organization | None, by: Actor) -> Organization:
    """Hang an organisation (and its whole subtree) under another parent, refusing cycles."""
    _require_staff(by)
    if parent is not None and parent.path.startswith(org.path):
        raise ValidationFailed(
            _("An organisation cannot be placed under itself or its own branch."),
            errors={"parent": [_("Would create a cycle.")]},
        )
    old_path = org.path
    new_path = f"{parent.path if parent else '/'}{org.pk}/"
    for node in Organization.objects.select_for_update().filter(path__startswith=old_path):
        node.path = new_path + node.path[len(old_path) :]
        if node.pk == org.pk:
            node.parent = parent
        node.save(update_fields=["path", "parent"])
    org.refresh_from_db()
    return org


# --- Sources and campaigns -----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceWithKey:
    source: Source
    raw_key: str


def _require_configurator(by: Actor) -> None:
    if not isinstance(by, SystemActor) and not (
        isinstance(by, User) and by.role in (Role.ADMIN, Role.MARKETING)
    ):
        raise NotAllowed(_("Only marketing and admins can configure sources and campaigns."))


@transaction.atomic
def create_source(
    *,
    name: str,
    kind: str,
    by: Actor,
    default_country: str = "",
    default_language: str = "",
    field_mapping: dict[str, Any] | None = None,
) -> SourceWithKey:
    """Create a source and its first key (returned once, stored only as a hash)."""
    _require_configurator(by)
    errors: dict[str, list[str]] = {}
    name = _text(name)
    if not name:
        errors["name"] = [_("Required.")]
    elif Source.objects.filter(name=name).exists():
        errors["name"] = [_("A source with this name exists already.")]
    if kind not in ChannelKind.values:
        errors["kind"] = [
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(ChannelKind.values)}
        ]
    try:
        country = normalize_country(default_country)
    except InvalidValue as exc:
        errors["default_country"] = [str(exc)]
        country = ""
    if errors:
        raise ValidationFailed(_("The source is not valid."), errors=errors)
    source = Source.objects.create(
        name=name[:200],
        kind=kind,
        default_country=country,
        default_language=default_language,
        field_mapping=field_mapping or {},
    )
    raw = _set_new_key(source)
    return SourceWithKey(source=source, raw_key=raw)


def _set_new_key(source: Source) -> str:
    raw, prefix = accounts_services.new_secret("s")
    source.key_prefix = prefix
    source.key_hash = accounts_services.hash_key(raw)
    source.key_revoked_at = None
    source.save(update_fields=["key_prefix", "key_hash", "key_revoked_at"])
    return raw


@transaction.atomic
def rotate_source_key(source: Source, *, by: Actor) -> str:
    """Replace a source's key; the old key stops working at once. Returns the new raw key."""
    _require_configurator(by)
    return _set_new_key(source)


@transaction.atomic
def revoke_source_key(source: Source, *, by: Actor) -> Source:
    """Stop a source's key from working (senders get 401) without deleting the source."""
    _require_configurator(by)
    source.key_revoked_at = timezone.now()
    source.save(update_fields=["key_revoked_at"])
    return source


def resolve_source_key(raw: str) -> Source | None:
    """The source a key belongs to (revoked or not: the caller answers 401 for a revoked one)."""
    if not raw.startswith("lls_"):
        return None
    return Source.objects.filter(key_hash=accounts_services.hash_key(raw)).first()


@transaction.atomic
def create_campaign(
    *,
    source: Source,
    name: str,
    by: Actor,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
    budget_amount: Decimal = Decimal("0"),
    currency: str = "EUR",
) -> Campaign:
    """Create a campaign under a source."""
    _require_configurator(by)
    errors: dict[str, list[str]] = {}
    name = _text(name)
    if not name:
        errors["name"] = [_("Required.")]
    elif Campaign.objects.filter(source=source, name=name).exists():
        errors["name"] = [_("This source has a campaign with this name already.")]
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = [_("Ends before it starts.")]
    if budget_amount < 0:
        errors["budget_amount"] = [_("Cannot be negative.")]
    if errors:
        raise ValidationFailed(_("The campaign is not valid."), errors=errors)
    return Campaign.objects.create(
        source=source,
        name=name[:200],
        starts_on=starts_on,
        ends_on=ends_on,
        budget_amount=budget_amount,
        currency=currency,
    )


def add_campaign_cost(
    campaign: Campaign, *, incurred_on: dt.date, amount: Decimal, by: Actor, note: str = ""
) -> CostEntry:
    """Record money spent on a campaign."""
    _require_configurator(by)
    if amount < 0:
        raise ValidationFailed(
            _("A cost cannot be negative."), errors={"amount": [_("Cannot be negative.")]}
        )
    return CostEntry.objects.create(
        campaign=campaign,
        incurred_on=incurred_on,
        amount=amount,
        currency=campaign.currency,
        note=note,
    )


def get_or_create_lost_reason(name: str) -> LostReason:
    """The lost reason called `name`, created when missing."""
    reason, _created = LostReason.objects.get_or_create(name=name)
    return reason


# --- Saved views ---------------------------------------------------------------------------------


def save_view(*, user: User, name: str, query: str) -> SavedView:
    """Keep the current lead-list filters under a name (replacing a view of the same name)."""
    name = _text(name)
    if not name:
        raise ValidationFailed(_("Give the view a name."), errors={"name": [_("Required.")]})
    view, _created = SavedView.objects.update_or_create(
        user=user, name=name[:100], defaults={"query": query[:2000]}
    )
    return view


def delete_view(*, user: User, view_id: int) -> None:
    """Delete one of the user's own saved views."""
    deleted, _counts = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise NotFound(_("No such saved view."))
