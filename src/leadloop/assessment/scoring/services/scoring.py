"""The scoring settings (grades, decay, readiness, fraud weights) and each source's policy."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget, User
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment.models import (
    DuplicateAction,
    ScoringSettings,
    SourcePolicy,
)
from leadloop.assessment.scoring.selectors import GRADES, builtin_fraud_weights
from leadloop.assessment.scoring.services._common import (
    MAX_ENGAGEMENT,
    MAX_FRAUD_WEIGHT,
    MAX_HALF_LIFE_DAYS,
    MAX_REJECT_AT,
    MAX_THRESHOLD,
    MAX_VELOCITY_LIMIT,
    MAX_VELOCITY_WINDOW,
    Errors,
    _changed,
    _choice,
    _fail,
    _integer,
    _who,
    logger,
)
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Source

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
    require(by, Permission.CONFIGURE_SCORING)
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
    require(by, Permission.CONFIGURE_SCORING)
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
