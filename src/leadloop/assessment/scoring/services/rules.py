"""Grading and engagement rules: what fits and what engagement is worth."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment.models import (
    EngagementEvent,
    EngagementRule,
    GradingField,
    GradingRule,
    Operator,
)
from leadloop.assessment.scoring.services._common import (
    EMAIL_KINDS,
    MAX_NUMBER,
    MAX_POINTS,
    NUMERIC_OPERATORS,
    VALUELESS_OPERATORS,
    Errors,
    RuleT,
    _audit_rule,
    _changed,
    _choice,
    _fail,
    _integer,
    _text,
    _who,
    logger,
)
from leadloop.leads.normalize import (
    InvalidValue,
    normalize_country,
)

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
    require(by, Permission.CONFIGURE_SCORING)
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
    require(by, Permission.CONFIGURE_SCORING)
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
    require(by, Permission.CONFIGURE_SCORING)
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
    require(by, Permission.CONFIGURE_SCORING)
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
    require(by, Permission.CONFIGURE_SCORING)
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
    require(by, Permission.CONFIGURE_SCORING)
    _delete_rule(rule, what="engagement", by=by)
