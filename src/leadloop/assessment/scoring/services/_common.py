"""What every part of the assessment configuration shares: limits, value checks, audit."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget, User
from leadloop.assessment.models import (
    EngagementRule,
    GradingRule,
    Operator,
)
from leadloop.assessment.scoring import rules
from leadloop.errors import ValidationFailed

RuleT = TypeVar("RuleT", GradingRule, EngagementRule)
# One logger for the whole configuration, named as before the split.
logger = logging.getLogger("leadloop.assessment.scoring.services")

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
