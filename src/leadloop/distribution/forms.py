"""Forms of the routing pages: a rule (conditions as text, one a line), the default rule, test
and dry run, a team's push settings, a rep's capacity and an absence."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.models import PartnerOrganization, Role, Team, User
from leadloop.distribution import actions, conditions
from leadloop.distribution.models import Strategy
from leadloop.errors import LeadloopError, ValidationFailed

ACTION_CHOICES = [
    ("team_push", _("Push to a rep of a team")),
    ("team_pool", _("Put in a team's pool")),
    ("person", _("Give to a person")),
    ("partner", _("Send to a partner")),
    ("nurture", _("Keep nurturing")),
    ("sell", _("Sell to buyers (ping-post auction)")),
]


class ServiceErrorsForm(forms.Form):
    # Service error keys (`rules.3.conditions`, `default`) mapped to this form's fields.
    error_fields: dict[str, str] = {}

    def apply_service_error(self, exc: LeadloopError) -> None:
        if not isinstance(exc, ValidationFailed) or not exc.errors:
            self.add_error(None, exc.detail)
            return
        for name, messages in exc.errors.items():
            tail = name.rsplit(".", 1)[-1]
            target = self.error_fields.get(tail) or (tail if tail in self.fields else None)
            for message in messages:
                self.add_error(target, message if target else f"{name}: {message}")


class ActionForm(ServiceErrorsForm):
    error_fields = {"action": "kind", "default": "kind"}

    kind = forms.ChoiceField(label=_("Then"), choices=ACTION_CHOICES)
    team = forms.ModelChoiceField(label=_("Team"), queryset=Team.objects.none(), required=False)
    user = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none(), required=False)
    partner = forms.ModelChoiceField(
        label=_("Partner"), queryset=PartnerOrganization.objects.none(), required=False
    )
    floor = forms.DecimalField(
        label=_("Lowest price accepted"), required=False, min_value=0, decimal_places=2
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = Team.objects.order_by("name")  # type: ignore[attr-defined]
        self.fields["user"].queryset = User.objects.filter(  # type: ignore[attr-defined]
            is_active=True, role__in=[Role.SALES_REP, Role.SALES_MANAGER]
        ).order_by("first_name", "last_name")
        self.fields["user"].label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]
        self.fields["partner"].queryset = PartnerOrganization.objects.filter(  # type: ignore[attr-defined]
            is_active=True
        ).order_by("name")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind", "")
        needed = {"team_push": "team", "team_pool": "team", "person": "user", "partner": "partner"}
        field = needed.get(kind)
        if field and not data.get(field):
            self.add_error(field, _("Choose one."))
        return data

    def action(self) -> dict[str, Any]:
        data = self.cleaned_data
        kind = data["kind"]
        if kind in ("team_push", "team_pool"):
            mode = actions.PUSH if kind == "team_push" else actions.POOL
            return {"kind": actions.TEAM, "team_id": data["team"].pk, "mode": mode}
        if kind == "person":
            return {"kind": actions.PERSON, "user_id": data["user"].pk}
        if kind == "partner":
            return {"kind": actions.PARTNER, "partner_id": data["partner"].pk}
        if kind == "sell":
            return {"kind": actions.SELL, "floor": str(data.get("floor") or 0)}
        return {"kind": actions.NURTURE}

    @staticmethod
    def initial_for(action: dict[str, Any]) -> dict[str, Any]:
        kind = action.get("kind")
        if kind == actions.TEAM:
            mode = "team_pool" if action.get("mode") == actions.POOL else "team_push"
            return {"kind": mode, "team": action.get("team_id")}
        if kind == actions.PERSON:
            return {"kind": "person", "user": action.get("user_id")}
        if kind == actions.PARTNER:
            return {"kind": "partner", "partner": action.get("partner_id")}
        if kind == actions.SELL:
            return {"kind": "sell", "floor": action.get("floor")}
        return {"kind": "nurture"} if kind else {}


class RuleForm(ActionForm):
    error_fields = {"action": "kind", "name": "name", "conditions": "conditions"}

    name = forms.CharField(label=_("Name"), max_length=200)
    conditions = forms.CharField(
        label=_("When (every line must hold)"),
        widget=forms.Textarea(attrs={"rows": 5, "spellcheck": "false"}),
        max_length=4000,
        help_text=_(
            "One condition a line: field, operator, value. For example: country = NL · "
            "postal_code between 1000 and 1999 · grade in A, B · priority >= 60 · "
            "extra.product = heat pump · email is not empty."
        ),
    )
    field_order = ["name", "conditions", "kind", "team", "user", "partner"]

    def clean_conditions(self) -> list[dict[str, Any]]:
        try:
            return conditions.parse_text(self.cleaned_data["conditions"])
        except conditions.ConditionError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def rule(self) -> dict[str, Any]:
        return {
            "name": self.cleaned_data["name"],
            "conditions": self.cleaned_data["conditions"],
            "action": self.action(),
        }

    @staticmethod
    def initial_for_rule(rule: dict[str, Any]) -> dict[str, Any]:
        return {
            "name": rule["name"],
            "conditions": "\n".join(conditions.as_text(c) for c in rule["conditions"]),
            **ActionForm.initial_for(rule["action"]),
        }


class PublishForm(forms.Form):
    note = forms.CharField(label=_("What changed"), max_length=300, required=False)


WHICH = [("draft", _("The draft")), ("active", _("The rules in force"))]


class TestLeadForm(forms.Form):
    lead_id = forms.IntegerField(label=_("Lead number"), min_value=1, max_value=2**63 - 1)
    rules = forms.ChoiceField(label=_("Rules"), choices=WHICH, initial="draft")


class DryRunForm(forms.Form):
    last = forms.IntegerField(label=_("Newest leads"), min_value=1, max_value=5000, initial=200)
    rules = forms.ChoiceField(label=_("Rules"), choices=WHICH, initial="draft")


class TeamRoutingForm(ServiceErrorsForm):
    strategy = forms.ChoiceField(label=_("Strategy"), choices=Strategy.choices)
    work_days = forms.MultipleChoiceField(
        label=_("Working days"),
        choices=[
            ("1", _("Mon")),
            ("2", _("Tue")),
            ("3", _("Wed")),
            ("4", _("Thu")),
            ("5", _("Fri")),
            ("6", _("Sat")),
            ("7", _("Sun")),
        ],
        widget=forms.CheckboxSelectMultiple,
    )
    work_start = forms.TimeField(
        label=_("From"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    work_end = forms.TimeField(
        label=_("Until"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    pool_alert_hours = forms.IntegerField(
        label=_("Tell the manager after (hours unclaimed in the pool)"),
        min_value=0,
        max_value=720,
        initial=4,
    )

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["work_days"] = "".join(data["work_days"])
        return data


class CapacityForm(ServiceErrorsForm):
    accepts_leads = forms.BooleanField(label=_("Takes new leads"), required=False)
    max_open = forms.IntegerField(label=_("Most open"), required=False, min_value=0)
    daily_quota = forms.IntegerField(label=_("A day"), required=False, min_value=0)
    claim_limit = forms.IntegerField(label=_("Taken a day"), required=False, min_value=0)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, max_value=100, initial=1)
    languages = forms.CharField(label=_("Languages"), required=False, max_length=60)


class AbsenceForm(ServiceErrorsForm):
    starts_on = forms.DateField(label=_("From"), widget=forms.DateInput(attrs={"type": "date"}))
    ends_on = forms.DateField(label=_("Until"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)
