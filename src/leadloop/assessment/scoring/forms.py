"""Forms of the scoring configuration page. They parse what was typed; the services in
`assessment.scoring.services` decide what is valid, and their errors are put back next to the
fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.assessment.models import (
    BlockKind,
    DuplicateAction,
    EngagementEvent,
    GradingField,
    Operator,
    ScoringSettings,
)
from leadloop.assessment.scoring.selectors import GRADES, FraudRule
from leadloop.errors import LeadloopError, ValidationFailed


class ConfigForm(forms.Form):
    """A form whose invalid fields say so to screen readers, and that takes service errors."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_errors"

    def field_for_error(self, name: str) -> str | None:
        return name if name in self.fields else None

    def apply_service_error(self, exc: LeadloopError) -> None:
        """Put a domain error's messages next to the fields they name, the rest on top."""
        if not isinstance(exc, ValidationFailed) or not exc.errors:
            self.add_error(None, exc.detail)
            return
        for name, messages in exc.errors.items():
            target = self.field_for_error(name)
            for message in messages:
                self.add_error(target, message if target else f"{name}: {message}")

    @property
    def values(self) -> dict[str, Any]:
        return dict(self.cleaned_data)


class GradingRuleForm(ConfigForm):
    field = forms.ChoiceField(label=_("Field"), choices=GradingField.choices)
    extra_key = forms.CharField(
        label=_("Extra field name"),
        required=False,
        max_length=100,
        help_text=_("Only for “Extra field”: the name of the source-specific field."),
    )
    operator = forms.ChoiceField(label=_("Operator"), choices=Operator.choices)
    value = forms.CharField(label=_("Value"), required=False, max_length=500)
    points = forms.IntegerField(label=_("Points"))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class EngagementRuleForm(ConfigForm):
    event = forms.ChoiceField(label=_("Event"), choices=EngagementEvent.choices)
    match = forms.CharField(
        label=_("Only when it mentions"),
        required=False,
        max_length=200,
        help_text=_("Optional: a page path, form name or link the event must mention."),
    )
    points = forms.IntegerField(label=_("Points"))
    is_repeatable = forms.BooleanField(label=_("Counts every time"), required=False, initial=True)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class BlockEntryForm(ConfigForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=BlockKind.choices)
    value = forms.CharField(label=_("Value"), max_length=254)
    country = forms.CharField(
        label=_("Country"),
        required=False,
        max_length=3,
        help_text=_("For a phone number without country code, e.g. NL."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=200)


class ReadinessForm(ConfigForm):
    ready_grades = forms.MultipleChoiceField(
        label=_("Grades"),
        choices=[(g, g) for g in GRADES],
        widget=forms.CheckboxSelectMultiple,
    )
    ready_min_engagement = forms.IntegerField(label=_("Engagement score at least"), min_value=0)
    ready_min_bant = forms.TypedChoiceField(
        label=_("BANT criteria met, at least"),
        choices=[(n, str(n)) for n in range(5)],
        coerce=int,
    )
    ready_min_predictive = forms.FloatField(
        label=_("Predicted chance at least (0–1)"),
        required=False,
        help_text=_("Leave empty to ignore the predictive score."),
    )

    def __init__(self, *args: Any, settings: ScoringSettings | None = None, **kwargs: Any):
        if settings is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "ready_grades": list(settings.ready_grades),
                "ready_min_engagement": settings.ready_min_engagement,
                "ready_min_bant": settings.ready_min_bant,
                "ready_min_predictive": settings.ready_min_predictive,
            }
        super().__init__(*args, **kwargs)

    @property
    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values["ready_grades"] = "".join(values["ready_grades"])
        return values


def _initial(settings: ScoringSettings | None, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(settings, name) for name in names} if settings is not None else {}


class GradeThresholdsForm(ConfigForm):
    grade_a_from = forms.IntegerField(label=_("Grade A from (points)"))
    grade_b_from = forms.IntegerField(label=_("Grade B from (points)"))
    grade_c_from = forms.IntegerField(label=_("Grade C from (points)"))

    def __init__(self, *args: Any, settings: ScoringSettings | None = None, **kwargs: Any):
        kwargs.setdefault("initial", _initial(settings, tuple(self.base_fields)))
        super().__init__(*args, **kwargs)


class EngagementSettingsForm(ConfigForm):
    engagement_half_life_days = forms.IntegerField(
        label=_("Half-life (days)"),
        min_value=1,
        help_text=_("After this many days an event counts for half its points, after twice as "
                    "many for a quarter."),
    )  # fmt: skip

    def __init__(self, *args: Any, settings: ScoringSettings | None = None, **kwargs: Any):
        kwargs.setdefault("initial", _initial(settings, tuple(self.base_fields)))
        super().__init__(*args, **kwargs)


class FraudSettingsForm(ConfigForm):
    """A weight per fraud rule (0 switches it off), the velocity window and the MX check."""

    velocity_window_minutes = forms.IntegerField(label=_("Velocity window (minutes)"), min_value=1)
    velocity_limit = forms.IntegerField(
        label=_("More leads than this in the window is suspect"), min_value=1
    )
    check_mx = forms.BooleanField(
        label=_("Look up the e-mail domain's mail server (slower; needs the network)"),
        required=False,
    )

    def __init__(
        self,
        *args: Any,
        fraud_rules: list[FraudRule],
        settings: ScoringSettings | None = None,
        **kwargs: Any,
    ):
        initial = _initial(settings, ("velocity_window_minutes", "velocity_limit", "check_mx"))
        initial.update({f"weight_{rule.code}": rule.weight for rule in fraud_rules})
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)
        self.fraud_rules = fraud_rules
        for rule in fraud_rules:
            self.fields[f"weight_{rule.code}"] = forms.IntegerField(
                label=rule.code, min_value=0, max_value=100, help_text=rule.description
            )

    def weight_fields(self) -> list[tuple[FraudRule, forms.BoundField]]:
        return [(rule, self[f"weight_{rule.code}"]) for rule in self.fraud_rules]

    def field_for_error(self, name: str) -> str | None:
        if name.startswith("fraud_weights."):
            name = "weight_" + name.partition(".")[2]
        return name if name in self.fields else None

    @property
    def values(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "velocity_window_minutes": data["velocity_window_minutes"],
            "velocity_limit": data["velocity_limit"],
            "check_mx": data["check_mx"],
            "fraud_weights": {rule.code: data[f"weight_{rule.code}"] for rule in self.fraud_rules},
        }


class SourcePolicyForm(ConfigForm):
    fraud_review_at = forms.IntegerField(
        label=_("Review from fraud score"), min_value=0, max_value=100
    )
    fraud_reject_at = forms.IntegerField(
        label=_("Reject from fraud score"),
        min_value=1,
        max_value=101,
        help_text=_("101 never rejects."),
    )
    on_duplicate = forms.ChoiceField(
        label=_("A duplicate at intake"),
        choices=DuplicateAction.choices,
        help_text=_(
            "Merge: the new submission is added to the existing lead's timeline. Review: the "
            "new lead is kept and held until a person decides. Allow: kept without a hold."
        ),
    )
