"""The team pages' forms: handing leads on, the team's follow-up rules and its targets.

The rules form checks only the shape of what was typed; whether a time zone, a holiday country
or the hours make sense is the service's call (`rules.set_team_rules`), and its messages land
next to the fields (`ServiceForm.apply_service_error`).
"""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Any, cast

import holidays
from babel import Locale, UnknownLocaleError
from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.defaults import time_zones
from leadloop.accounts.forms import ServiceForm
from leadloop.accounts.models import Team, User
from leadloop.accounts.selectors import list_assignable_teams, list_assignable_users
from leadloop.leads.models import FitGrade, Source
from leadloop.sales.models import BreachAction, TeamSla

WEEKDAYS = [
    ("0", pgettext_lazy("weekday", "Monday")),
    ("1", pgettext_lazy("weekday", "Tuesday")),
    ("2", pgettext_lazy("weekday", "Wednesday")),
    ("3", pgettext_lazy("weekday", "Thursday")),
    ("4", pgettext_lazy("weekday", "Friday")),
    ("5", pgettext_lazy("weekday", "Saturday")),
    ("6", pgettext_lazy("weekday", "Sunday")),
]
POOL = "pool"


@cache
def holiday_countries() -> tuple[str, ...]:
    """The ISO 3166 codes the `holidays` package keeps public holidays for."""
    return tuple(sorted(code for code in holidays.list_supported_countries() if len(code) == 2))


def _country_names() -> dict[str, str]:
    try:
        locale = Locale.parse(translation.get_language() or settings.LANGUAGE_CODE, sep="-")
    except (ValueError, UnknownLocaleError):
        locale = Locale("en")
    return {code: str(locale.territories.get(code, code)) for code in holiday_countries()}


class ReassignForm(ServiceForm):
    """Hand the ticked leads to a member of the team or back to its pool, with the reason
    the timeline shows. Which leads is the view's `ids`, kept to the team by the selector."""

    assignee = forms.ChoiceField(label=_("Give to"))
    reason = forms.CharField(
        label=_("Why"),
        max_length=500,
        help_text=_("Shown on each lead's timeline, so whoever gets it knows why."),
    )

    def __init__(self, data: QueryDict | None = None, *, actor: Actor, team: Team) -> None:
        super().__init__(data)
        allowed = (
            list_assignable_users(actor)
            .filter(team_id=team.pk)
            .order_by("first_name", "last_name", "username")
        )
        self.users: dict[str, User] = {f"user:{u.pk}": u for u in allowed}
        self.team = team
        may_pool = list_assignable_teams(actor).filter(pk=team.pk).exists()
        choices: list[Any] = [("", _("Choose a person or the pool"))]
        choices += [(key, user.display_name) for key, user in self.users.items()]
        if may_pool:
            choices.append((POOL, _("The team's pool (%(team)s)") % {"team": team.name}))
        cast(forms.ChoiceField, self.fields["assignee"]).choices = choices

    def target(self) -> dict[str, Any]:
        """The keywords of `leads.services.assign_lead`: the person or the pool, and why."""
        key, reason = self.cleaned_data["assignee"], self.cleaned_data["reason"]
        if key == POOL:
            return {"team": self.team, "reason": reason}
        return {"to": self.users[key], "reason": reason}


class TeamRulesForm(ServiceForm):
    """A team's working time and first-contact rules, as `rules.set_team_rules` takes them."""

    time_zone = forms.CharField(label=_("Time zone"), max_length=64, widget=forms.Select)
    holiday_country = forms.CharField(
        label=_("Public holidays of"),
        max_length=3,
        required=False,
        widget=forms.Select,
        help_text=_("The days off of this country are not counted as working time."),
    )
    holiday_subdivision = forms.CharField(
        label=_("Region for holidays"),
        max_length=10,
        required=False,
        help_text=_("A state or province code where holidays differ by region (e.g. BY)."),
    )
    work_days = forms.MultipleChoiceField(
        label=_("Working days"), choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple
    )
    opens = forms.TimeField(label=_("Opens"), widget=forms.TimeInput(attrs={"type": "time"}))
    closes = forms.TimeField(label=_("Closes"), widget=forms.TimeInput(attrs={"type": "time"}))
    target_hours = forms.DecimalField(
        label=_("First contact within (business hours)"),
        required=False,
        min_value=Decimal("0.25"),
        max_digits=6,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.25"}),
        help_text=_("Empty: one business day (a lead received at 10:00 is due at 10:00 the next "
                    "working day)."),
    )  # fmt: skip
    remind_at_percent = forms.IntegerField(
        label=_("Remind the owner when this share of the time is used (%)"),
        min_value=0,
        max_value=99,
        help_text=_("0: no reminder."),
    )
    on_breach = forms.ChoiceField(
        label=_("When the time runs out"),
        choices=BreachAction.choices,
        widget=forms.RadioSelect,
    )
    restart_on_reassign = forms.BooleanField(
        label=_("A reassigned lead starts a new clock"), required=False
    )

    def __init__(self, data: QueryDict | None = None, *, rules: TeamSla | None = None) -> None:
        initial = None
        if rules is not None:
            initial = {
                "time_zone": rules.time_zone,
                "holiday_country": rules.holiday_country,
                "holiday_subdivision": rules.holiday_subdivision,
                "work_days": list(rules.work_days),
                "opens": rules.opens,
                "closes": rules.closes,
                "target_hours": (
                    (Decimal(rules.target_minutes) / 60).quantize(Decimal("0.01")).normalize()
                    if rules.target_minutes
                    else None
                ),
                "remind_at_percent": rules.remind_at_percent,
                "on_breach": rules.on_breach,
                "restart_on_reassign": rules.restart_on_reassign,
            }
        super().__init__(data, initial=initial)
        zone = cast(forms.Select, self.fields["time_zone"].widget)
        zone.choices = [(name, name) for name in time_zones()]
        names = _country_names()
        country = cast(forms.Select, self.fields["holiday_country"].widget)
        countries = sorted(
            ((code, f"{name} ({code})") for code, name in names.items()),
            key=lambda pair: pair[1],
        )
        country.choices = [("", _("No public holidays")), *countries]

    def values(self) -> dict[str, Any]:
        """The service's `values`: the hours as business minutes, the days as one string."""
        data = dict(self.cleaned_data)
        hours = data.pop("target_hours")
        data["target_minutes"] = int(hours * 60) if hours is not None else None
        data["work_days"] = "".join(sorted(data["work_days"]))
        return data

    def apply_service_error(self, exc: Any) -> None:
        if "target_minutes" in getattr(exc, "errors", {}):
            exc.errors["target_hours"] = exc.errors.pop("target_minutes")
        super().apply_service_error(exc)


class TargetForm(ServiceForm):
    """A first-contact target for some leads: of this team (or every team, for admins), of a
    source and/or a fit grade."""

    scope = forms.ChoiceField(label=_("For leads of"))
    source = forms.ModelChoiceField(
        label=_("Source"), queryset=Source.objects.none(), required=False, empty_label=_("Any")
    )
    fit_grade = forms.ChoiceField(
        label=_("Fit grade"), choices=[("", _("Any")), *FitGrade.choices], required=False
    )
    business_minutes = forms.IntegerField(
        label=_("First contact within (business minutes)"),
        min_value=1,
        max_value=60 * 24 * 30,
        help_text=_("60 = one business hour."),
    )

    def __init__(
        self, data: QueryDict | None = None, *, team: Team, every_team: bool, sources: Any
    ) -> None:
        super().__init__(data, prefix="target")
        scopes = [("team", team.name)]
        if every_team:
            scopes.append(("all", str(_("Every team"))))
        cast(forms.ChoiceField, self.fields["scope"]).choices = scopes
        cast(forms.ModelChoiceField, self.fields["source"]).queryset = sources
        self.team = team

    def values(self) -> dict[str, Any]:
        """The keywords of `rules.set_target`."""
        return {
            "team": self.team if self.cleaned_data["scope"] == "team" else None,
            "source": self.cleaned_data["source"],
            "fit_grade": self.cleaned_data["fit_grade"],
            "business_minutes": self.cleaned_data["business_minutes"],
        }
