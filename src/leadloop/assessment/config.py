"""The assessment configuration marketing and sales edit: grading and engagement rules, the
scoring settings (grade thresholds, decay, the readiness rule, fraud weights), the blocklist and
the per-source policy.

Every service checks the actor (marketing, admin or the system), validates the values with
per-field errors (ValidationFailed), writes, and drops the cached rules snapshot so the next
assessment in this process uses the change (other processes pick it up within `rules.TTL`).
"""

from __future__ import annotations

import ipaddress
import logging
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import idna
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget, User
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.assessment import rules
from leadloop.assessment.models import (
    BlockEntry,
    BlockKind,
    DuplicateAction,
    EngagementEvent,
    EngagementRule,
    GradingField,
    GradingRule,
    Operator,
    ScoringSettings,
    SourcePolicy,
)
from leadloop.assessment.selectors import GRADES, builtin_fraud_weights
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads.models import Source
from leadloop.leads.normalize import (
    InvalidValue,
    normalize_country,
    normalize_email,
    normalize_phone,
)

RuleT = TypeVar("RuleT", GradingRule, EngagementRule)
logger = logging.getLogger(__name__)

Errors = dict[str, list[str]]

MAX_POINTS = 1000
MAX_NUMBER = Decimal(10) ** 15
MAX_THRESHOLD = 100_000
MAX_HALF_LIFE_DAYS = 3650
MAX_ENGAGEMENT = 100_000
MAX_VELOCITY_WINDOW = 7 * 24 * 60
MAX_VELOCITY_LIMIT = 10_000
MAX_FRAUD_WEIGHT = 100
# The fraud score tops out at 100; a reject threshold of 101 means "never reject".
MAX_REJECT_AT = 101
# A rule on these fields compares numbers; the others compare text.
NUMERIC_OPERATORS = frozenset({Operator.AT_LEAST, Operator.AT_MOST})
VALUELESS_OPERATORS = frozenset({Operator.IS_SET, Operator.NOT_SET})
EMAIL_KINDS = ("business", "free", "disposable", "role")
# Blocking a /0 or a whole /8 of addresses blocks half the world by mistake; narrower is deliberate.
MIN_PREFIX = {4: 8, 6: 16}


def _require_configurator(by: Actor) -> None:
    if not can_manage_configuration(by):
        raise NotAllowed(_("Only marketing and admins can change the scoring configuration."))


def _changed() -> None:
    # At once for this transaction's own later reads (an assessment in the same request), and
    # again after the commit, in case another thread reloaded the old rows in between.
    rules.invalidate()
    transaction.on_commit(rules.invalidate)


def _fail(errors: Errors, message: str) -> None:
    if errors:
        raise ValidationFailed(message, errors=errors)


def _text(errors: Errors, name: str, value: Any, *, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        errors.setdefault(name, []).append(_("Expected text."))
        return ""
    if "\x00" in value:
        errors.setdefault(name, []).append(_("Contains a NUL character, which cannot be stored."))
        return ""
    value = value.strip()
    if len(value) > max_length:
        errors.setdefault(name, []).append(
            _("At most %(count)d characters.") % {"count": max_length}
        )
    return value


def _integer(errors: Errors, name: str, value: Any, *, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except (TypeError, ValueError):
            errors.setdefault(name, []).append(_("Enter a whole number."))
            return 0
    if not low <= value <= high:
        errors.setdefault(name, []).append(
            _("Between %(low)d and %(high)d.") % {"low": low, "high": high}
        )
    return value


def _choice(errors: Errors, name: str, value: Any, choices: type[Any]) -> str:
    if value not in choices.values:
        errors.setdefault(name, []).append(
            _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}
        )
        return ""
    return str(value)


# --- Grading rules -------------------------------------------------------------------------------


def _clean_grading(data: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    field = _choice(errors, "field", data.get("field"), GradingField)
    operator = _choice(errors, "operator", data.get("operator"), Operator)
    extra_key = _text(errors, "extra_key", data.get("extra_key"), max_length=100)
    value = _text(errors, "value", data.get("value"), max_length=500)
    points = _integer(errors, "points", data.get("points"), low=-MAX_POINTS, high=MAX_POINTS)
    if field == GradingField.EXTRA and not extra_key and "extra_key" not in errors:
        errors["extra_key"] = [_("Name the extra field this rule looks at.")]
    elif field and field != GradingField.EXTRA:
        extra_key = ""
    if operator in VALUELESS_OPERATORS:
        value = ""
    elif operator and "value" not in errors:
        value = _grading_value(errors, field, operator, value)
    _fail(errors, _("The grading rule is not valid."))
    return {
        "field": field,
        "operator": operator,
        "extra_key": extra_key,
        "value": value,
        "points": points,
        "is_active": bool(data.get("is_active", True)),
    }


def _grading_value(errors: Errors, field: str, operator: str, value: str) -> str:
    """The value in the form the grading stage compares with; errors for values that can't match."""
    if not value:
        errors["value"] = [_("Give the value to compare with.")]
        return value
    if operator in NUMERIC_OPERATORS:
        try:
            number = Decimal(value.replace(",", "."))
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or abs(number) > MAX_NUMBER:
            errors["value"] = [
                _("“%(operator)s” needs a number.") % {"operator": Operator(operator).label}
            ]
            return value
        if number == number.to_integral_value():
            return str(int(number))
        return format(number.normalize(), "f")
    items = [item.strip() for item in value.split(",")] if operator == Operator.IN else [value]
    if operator == Operator.IN and not all(items):
        errors["value"] = [_("A list with an empty item; separate values with single commas.")]
        return value
    if field == GradingField.COUNTRY and operator in (Operator.EQUALS, Operator.IN):
        try:
            items = [normalize_country(item) for item in items]
        except InvalidValue as exc:
            errors["value"] = [str(exc)]
            return value
    if field == GradingField.EMAIL_KIND and operator in (Operator.EQUALS, Operator.IN):
        items = [item.lower() for item in items]
        unknown = [item for item in items if item not in EMAIL_KINDS]
        if unknown:
            errors["value"] = [
                _("Unknown e-mail kind %(kinds)s; use %(known)s.")
                % {"kinds": ", ".join(unknown), "known": ", ".join(EMAIL_KINDS)}
            ]
            return value
    return ",".join(items) if operator == Operator.IN else items[0]


@transaction.atomic
def create_grading_rule(
    *,
    by: Actor,
    field: str,
    operator: str,
    points: int,
    value: str = "",
    extra_key: str = "",
    is_active: bool = True,
) -> GradingRule:
    """Add a profile rule at the end of the list: a lead whose field matches earns `points`."""
    _require_configurator(by)
    cleaned = _clean_grading(
        {
            "field": field,
            "operator": operator,
            "points": points,
            "value": value,
            "extra_key": extra_key,
            "is_active": is_active,
        }
    )
    last = GradingRule.objects.order_by("-position").values_list("position", flat=True).first()
    rule = GradingRule.objects.create(**cleaned, position=(last or 0) + 1)
    logger.info("grading rule created rule=%s by=%s", rule.pk, _who(by))
    _audit_rule(rule.pk, what="grading", change="created", by=by)
    _changed()
    return rule


@transaction.atomic
def update_grading_rule(
    rule: GradingRule,
    *,
    by: Actor,
    field: str,
    operator: str,
    points: int,
    value: str = "",
    extra_key: str = "",
    is_active: bool = True,
) -> GradingRule:
    """Replace a grading rule's condition and points (its place in the list stays)."""
    _require_configurator(by)
    cleaned = _clean_grading(
        {
            "field": field,
            "operator": operator,
            "points": points,
            "value": value,
            "extra_key": extra_key,
            "is_active": is_active,
        }
    )
    return _save_rule(rule, cleaned, what="grading", by=by)


def _save_rule(rule: RuleT, cleaned: dict[str, Any], *, what: str, by: Actor) -> RuleT:
    for name, new in cleaned.items():
        setattr(rule, name, new)
    rule.save(update_fields=list(cleaned))
    logger.info("%s rule updated rule=%s by=%s", what, rule.pk, _who(by))
    _audit_rule(rule.pk, what=what, change="updated", by=by)
    _changed()
    return rule


def _delete_rule(rule: GradingRule | EngagementRule, *, what: str, by: Actor) -> None:
    rule_id = rule.pk
    rule.delete()
    logger.info("%s rule deleted rule=%s by=%s", what, rule_id, _who(by))
    _audit_rule(rule_id, what=what, change="deleted", by=by)
    _changed()


@transaction.atomic
def delete_grading_rule(rule: GradingRule, *, by: Actor) -> None:
    """Remove a grading rule; leads keep their grade until they are assessed again."""
    _require_configurator(by)
    _delete_rule(rule, what="grading", by=by)


# --- Engagement rules ----------------------------------------------------------------------------


def _clean_engagement(data: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    cleaned = {
        "event": _choice(errors, "event", data.get("event"), EngagementEvent),
        "match": _text(errors, "match", data.get("match"), max_length=200),
        "points": _integer(errors, "points", data.get("points"), low=-MAX_POINTS, high=MAX_POINTS),
        "is_repeatable": bool(data.get("is_repeatable", True)),
        "is_active": bool(data.get("is_active", True)),
    }
    _fail(errors, _("The engagement rule is not valid."))
    return cleaned


@transaction.atomic
def create_engagement_rule(
    *,
    by: Actor,
    event: str,
    points: int,
    match: str = "",
    is_repeatable: bool = True,
    is_active: bool = True,
) -> EngagementRule:
    """Add a behaviour rule: each `event` (mentioning `match`, when given) earns `points`."""
    _require_configurator(by)
    cleaned = _clean_engagement(
        {
            "event": event,
            "points": points,
            "match": match,
            "is_repeatable": is_repeatable,
            "is_active": is_active,
        }
    )
    rule = EngagementRule.objects.create(**cleaned)
    logger.info("engagement rule created rule=%s by=%s", rule.pk, _who(by))
    _audit_rule(rule.pk, what="engagement", change="created", by=by)
    _changed()
    return rule


@transaction.atomic
def update_engagement_rule(
    rule: EngagementRule,
    *,
    by: Actor,
    event: str,
    points: int,
    match: str = "",
    is_repeatable: bool = True,
    is_active: bool = True,
) -> EngagementRule:
    """Replace an engagement rule's event, match, points and repeatability."""
    _require_configurator(by)
    cleaned = _clean_engagement(
        {
            "event": event,
            "points": points,
            "match": match,
            "is_repeatable": is_repeatable,
            "is_active": is_active,
        }
    )
    return _save_rule(rule, cleaned, what="engagement", by=by)


@transaction.atomic
def delete_engagement_rule(rule: EngagementRule, *, by: Actor) -> None:
    """Remove an engagement rule; scores change when leads are assessed again."""
    _require_configurator(by)
    _delete_rule(rule, what="engagement", by=by)


# --- Blocklist -----------------------------------------------------------------------------------


def normalize_block_value(kind: str, value: str, *, country: str = "") -> str:
    """The stored form of a blocklist value: lower-case IDNA domain, normalised e-mail, IP network
    (a single address without /32), E.164 phone. InvalidValue with a readable reason."""
    value = value.strip()
    if not value:
        raise InvalidValue(_("Give the value to block."))
    if kind == BlockKind.EMAIL_DOMAIN:
        return _normalize_domain(value)
    if kind == BlockKind.EMAIL:
        return normalize_email(value).lower()
    if kind == BlockKind.IP:
        return _normalize_network(value)
    if kind == BlockKind.PHONE:
        region = normalize_country(country) if country else ""
        if not region and not value.startswith(("+", "00")):
            raise InvalidValue(
                _("Give the number with its country code (+31 …) or choose a country.")
            )
        if value.startswith("00"):
            value = "+" + value[2:]
        return normalize_phone(value, region=region)
    raise InvalidValue(_("Unknown kind."))


def _normalize_domain(value: str) -> str:
    domain = value.lower().lstrip("@").rstrip(".")
    if "@" in domain:
        domain = domain.rpartition("@")[2]
    try:
        ascii_domain = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError) as exc:
        raise InvalidValue(_("Not a valid domain name.")) from exc
    if "." not in ascii_domain or len(ascii_domain) > 253:
        raise InvalidValue(_("Not a valid domain name (for example spam.example)."))
    return ascii_domain.lower()


def _normalize_network(value: str) -> str:
    try:
        network = ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise InvalidValue(
            _("Not an IP address or network (for example 203.0.113.7 or 203.0.113.0/24).")
        ) from exc
    if network.prefixlen < MIN_PREFIX[network.version]:
        raise InvalidValue(
            _("This network is too wide to block; use /%(prefix)d or narrower.")
            % {"prefix": MIN_PREFIX[network.version]}
        )
    if network.prefixlen == network.max_prefixlen:
        return str(network.network_address)
    return str(network)


def _clean_block(data: dict[str, Any], *, exclude_id: int | None = None) -> dict[str, Any]:
    errors: Errors = {}
    kind = _choice(errors, "kind", data.get("kind"), BlockKind)
    raw = _text(errors, "value", data.get("value"), max_length=254)
    note = _text(errors, "note", data.get("note"), max_length=200)
    country = _text(errors, "country", data.get("country"), max_length=3)
    if country and "country" not in errors:
        try:
            country = normalize_country(country)
        except InvalidValue as exc:
            errors["country"] = [str(exc)]
    value = ""
    if kind and "value" not in errors and "country" not in errors:
        try:
            value = normalize_block_value(kind, raw, country=country)
        except InvalidValue as exc:
            errors["value"] = [str(exc)]
    if value and len(value) > 254:
        errors["value"] = [_("At most %(count)d characters.") % {"count": 254}]
    if value and "value" not in errors:
        same = BlockEntry.objects.filter(kind=kind, value=value)
        if exclude_id is not None:
            same = same.exclude(pk=exclude_id)
        if same.exists():
            errors["value"] = [_("%(value)s is on the blocklist already.") % {"value": value}]
    _fail(errors, _("The blocklist entry is not valid."))
    return {"kind": kind, "value": value, "note": note}


def _save_block(entry: BlockEntry, fields: list[str] | None = None) -> None:
    try:
        with transaction.atomic():
            entry.save(update_fields=fields)
    except IntegrityError as exc:  # the same value added at the same moment by someone else
        raise ValidationFailed(
            _("The blocklist entry is not valid."),
            errors={
                "value": [_("%(value)s is on the blocklist already.") % {"value": entry.value}]
            },
        ) from exc


@transaction.atomic
def create_block_entry(
    *, by: Actor, kind: str, value: str, note: str = "", country: str = ""
) -> BlockEntry:
    """Put a domain, e-mail address, IP network or phone number on the blocklist.

    `country` is the region a phone number without country code is read in.
    """
    _require_configurator(by)
    cleaned = _clean_block({"kind": kind, "value": value, "note": note, "country": country})
    entry = BlockEntry(**cleaned, created_by=by if isinstance(by, User) else None)
    _save_block(entry)
    logger.info("blocklist entry added entry=%s kind=%s by=%s", entry.pk, entry.kind, _who(by))
    _audit_block(entry.pk, kind=entry.kind, change="created", by=by)
    _changed()
    return entry


@transaction.atomic
def update_block_entry(
    entry: BlockEntry, *, by: Actor, kind: str, value: str, note: str = "", country: str = ""
) -> BlockEntry:
    """Change a blocklist entry's value or note."""
    _require_configurator(by)
    cleaned = _clean_block(
        {"kind": kind, "value": value, "note": note, "country": country}, exclude_id=entry.pk
    )
    for name, new in cleaned.items():
        setattr(entry, name, new)
    _save_block(entry, list(cleaned))
    logger.info("blocklist entry updated entry=%s by=%s", entry.pk, _who(by))
    _audit_block(entry.pk, kind=entry.kind, change="updated", by=by)
    _changed()
    return entry


@transaction.atomic
def delete_block_entry(entry: BlockEntry, *, by: Actor) -> None:
    """Take a value off the blocklist."""
    _require_configurator(by)
    entry_id, kind = entry.pk, entry.kind
    entry.delete()
    logger.info("blocklist entry removed entry=%s by=%s", entry_id, _who(by))
    _audit_block(entry_id, kind=kind, change="deleted", by=by)
    _changed()


# --- Scoring settings ----------------------------------------------------------------------------

SETTINGS_FIELDS = (
    "grade_a_from",
    "grade_b_from",
    "grade_c_from",
    "engagement_half_life_days",
    "ready_grades",
    "ready_min_engagement",
    "ready_min_bant",
    "ready_min_predictive",
    "fraud_weights",
    "velocity_window_minutes",
    "velocity_limit",
    "check_mx",
)


@transaction.atomic
def update_scoring_settings(*, by: Actor, **changes: Any) -> ScoringSettings:
    """Change some of the scoring settings; the ones not named keep their value.

    Grade thresholds must be ordered A > B > C; the readiness grades are letters of ABCD;
    `fraud_weights` replaces the per-rule weights (a rule not named goes back to its built-in
    weight, 0 switches it off). Who changed it and when is kept on the row.
    """
    _require_configurator(by)
    unknown = sorted(set(changes) - set(SETTINGS_FIELDS))
    if unknown:
        raise ValidationFailed(
            _("Unknown settings."), errors={name: [_("Unknown setting.")] for name in unknown}
        )
    settings, _created = ScoringSettings.objects.select_for_update().get_or_create(pk=1)
    values = {name: getattr(settings, name) for name in SETTINGS_FIELDS}
    values.update(changes)
    cleaned = _clean_settings(values)
    for name, new in cleaned.items():
        setattr(settings, name, new)
    settings.updated_by = by if isinstance(by, User) else None
    settings.save()
    logger.info("scoring settings updated fields=%s by=%s", ",".join(sorted(changes)), _who(by))
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=AuditTarget.SETTINGS,
        target_id="scoring",
        target_label="scoring",
        data={"fields": sorted(changes)},
    )
    _changed()
    return settings


def _clean_settings(values: dict[str, Any]) -> dict[str, Any]:
    errors: Errors = {}
    cleaned: dict[str, Any] = {}
    for name in ("grade_a_from", "grade_b_from", "grade_c_from"):
        cleaned[name] = _integer(errors, name, values[name], low=-MAX_THRESHOLD, high=MAX_THRESHOLD)
    ordered = not {"grade_a_from", "grade_b_from", "grade_c_from"} & set(errors)
    if ordered and cleaned["grade_a_from"] <= cleaned["grade_b_from"]:
        errors["grade_a_from"] = [_("Grade A must need more points than grade B.")]
    if ordered and cleaned["grade_b_from"] <= cleaned["grade_c_from"]:
        errors["grade_b_from"] = [_("Grade B must need more points than grade C.")]
    cleaned["engagement_half_life_days"] = _integer(
        errors,
        "engagement_half_life_days",
        values["engagement_half_life_days"],
        low=1,
        high=MAX_HALF_LIFE_DAYS,
    )
    cleaned["ready_grades"] = _ready_grades(errors, values["ready_grades"])
    cleaned["ready_min_engagement"] = _integer(
        errors, "ready_min_engagement", values["ready_min_engagement"], low=0, high=MAX_ENGAGEMENT
    )
    cleaned["ready_min_bant"] = _integer(
        errors, "ready_min_bant", values["ready_min_bant"], low=0, high=4
    )
    cleaned["ready_min_predictive"] = _probability(errors, values["ready_min_predictive"])
    cleaned["fraud_weights"] = _fraud_weights(errors, values["fraud_weights"])
    cleaned["velocity_window_minutes"] = _integer(
        errors,
        "velocity_window_minutes",
        values["velocity_window_minutes"],
        low=1,
        high=MAX_VELOCITY_WINDOW,
    )
    cleaned["velocity_limit"] = _integer(
        errors, "velocity_limit", values["velocity_limit"], low=1, high=MAX_VELOCITY_LIMIT
    )
    check_mx = values["check_mx"]
    if not isinstance(check_mx, bool):
        errors["check_mx"] = [_("Expected true or false.")]
    cleaned["check_mx"] = bool(check_mx)
    _fail(errors, _("The scoring settings are not valid."))
    return cleaned


def _ready_grades(errors: Errors, value: Any) -> str:
    if isinstance(value, list | tuple | set | frozenset):
        value = "".join(str(v) for v in value)
    if not isinstance(value, str):
        errors["ready_grades"] = [_("Expected grade letters such as AB.")]
        return ""
    letters = value.replace(",", "").replace(" ", "").upper()
    if not letters:
        errors["ready_grades"] = [_("Choose at least one grade.")]
        return ""
    if any(letter not in GRADES for letter in letters):
        errors["ready_grades"] = [_("Only the grades A, B, C and D.")]
        return ""
    return "".join(g for g in GRADES if g in letters)


def _probability(errors: Errors, value: Any) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        errors["ready_min_predictive"] = [_("Enter a number between 0 and 1.")]
        return None
    if not 0.0 <= number <= 1.0:  # NaN fails this too
        errors["ready_min_predictive"] = [_("Enter a number between 0 and 1.")]
        return None
    return number


def _fraud_weights(errors: Errors, value: Any) -> dict[str, int]:
    """Only the weights that differ from the built-in ones are kept, so a better default in a
    later release reaches every rule nobody changed."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors["fraud_weights"] = [_("Expected a weight per rule code.")]
        return {}
    builtin = builtin_fraud_weights()
    kept: dict[str, int] = {}
    for code, weight in value.items():
        name = f"fraud_weights.{code}"
        if code not in builtin:
            errors[name] = [
                _("Unknown fraud rule; known rules: %(codes)s.") % {"codes": ", ".join(builtin)}
            ]
            continue
        number = _integer(errors, name, weight, low=0, high=MAX_FRAUD_WEIGHT)
        if name not in errors and number != builtin[code]:
            kept[code] = number
    return kept


# --- Source policy -------------------------------------------------------------------------------


@transaction.atomic
def set_source_policy(
    source: Source,
    *,
    by: Actor,
    fraud_review_at: int,
    fraud_reject_at: int,
    on_duplicate: str,
) -> SourcePolicy:
    """Set how a source's leads are judged: fraud scores from `fraud_review_at` are held for
    review, from `fraud_reject_at` refused (101: never); what a duplicate at intake does."""
    _require_configurator(by)
    errors: Errors = {}
    review = _integer(errors, "fraud_review_at", fraud_review_at, low=0, high=100)
    reject = _integer(errors, "fraud_reject_at", fraud_reject_at, low=1, high=MAX_REJECT_AT)
    if not errors and review >= reject:
        errors["fraud_reject_at"] = [_("Must be higher than the review threshold.")]
    action = _choice(errors, "on_duplicate", on_duplicate, DuplicateAction)
    _fail(errors, _("The source policy is not valid."))
    policy, _created = SourcePolicy.objects.update_or_create(
        source=source,
        defaults={"fraud_review_at": review, "fraud_reject_at": reject, "on_duplicate": action},
    )
    logger.info("source policy set source=%s by=%s", source.pk, _who(by))
    record_audit(
        actor=by,
        action=AuditAction.SOURCE_CHANGED,
        target_type=AuditTarget.SOURCE,
        target_id=source.pk,
        target_label=source.name,
        data={"change": "policy", "on_duplicate": action},
    )
    _changed()
    return policy


def _audit_rule(rule_id: int, *, what: str, change: str, by: Actor) -> None:
    record_audit(
        actor=by,
        action=AuditAction.RULE_CHANGED,
        target_type=AuditTarget.RULE,
        target_id=rule_id,
        target_label=f"{what} #{rule_id}",
        data={"rule": what, "change": change},
    )


def _audit_block(entry_id: int, *, kind: str, change: str, by: Actor) -> None:
    # The kind only: a blocked e-mail address or phone number is someone's personal data.
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=AuditTarget.BLOCK_ENTRY,
        target_id=entry_id,
        data={"kind": kind, "change": change},
    )


def _who(by: Actor) -> str:
    return str(by.pk) if isinstance(by, User) else type(by).__name__
