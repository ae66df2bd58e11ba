"""Forms of the telemarketing pages: a call list, the desk's outcome, the do-not-call list."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadloop.accounts.forms import ServiceForm
from leadloop.leads.models import BantAnswer
from leadloop.nurture.calls.models import CallOutcome
from leadloop.nurture.calls.services.desk import CALL_OUTCOMES

WEEKDAYS = [
    (0, _("Monday")),
    (1, _("Tuesday")),
    (2, _("Wednesday")),
    (3, _("Thursday")),
    (4, _("Friday")),
    (5, _("Saturday")),
    (6, _("Sunday")),
]


class CallListForm(ServiceForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    script_en = forms.CharField(
        label=_("Script (English)"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Markdown: **bold**, *italic*, lists, headings."),
    )
    script_nl = forms.CharField(
        label=_("Script (Dutch)"),
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Leads whose language is Dutch get this one; the others the English one."),
    )
    call_days = forms.TypedMultipleChoiceField(
        label=_("Calling days"), choices=WEEKDAYS, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    opens_at = forms.TimeField(
        label=_("Calls from"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    closes_at = forms.TimeField(
        label=_("Calls until"), widget=forms.TimeInput(attrs={"type": "time"})
    )
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)
    holiday_country = forms.CharField(
        label=_("No calls on the public holidays of"),
        required=False,
        max_length=2,
        help_text=_("A country code, like NL; empty for none."),
    )
    days_off = forms.CharField(
        label=_("Other days without calls"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Dates like 2026-12-24, one per line."),
    )
    retry_delay_minutes = forms.IntegerField(
        label=_("Try again after (minutes of calling time)"), min_value=5, max_value=10080
    )
    max_attempts = forms.IntegerField(label=_("Tries at most"), min_value=1, max_value=10)
    fill_query = forms.CharField(
        label=_("Fill from this lead filter"),
        required=False,
        max_length=2000,
        help_text=_(
            "The part after ? in the address of a filtered leads page, "
            "e.g. status=nurturing&source=3."
        ),
    )
    members = forms.TypedMultipleChoiceField(
        label=_("Agents"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, agents: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.TypedMultipleChoiceField, self.fields["members"]).choices = agents

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["days_off"] = data.get("days_off") or ""
        return data


class FillForm(ServiceForm):
    query = forms.CharField(label=_("Lead filter"), required=False, max_length=2000)


class OutcomeForm(ServiceForm):
    """The desk's form: one submit button per outcome (`outcome`), and what goes with it."""

    outcome = forms.ChoiceField(
        label=_("Outcome"), choices=[(o.value, o.label) for o in CALL_OUTCOMES]
    )
    minutes = forms.FloatField(
        label=_("Call length (minutes)"), required=False, min_value=0, max_value=480
    )
    notes = forms.CharField(
        label=_("Notes"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 3})
    )
    callback_at = forms.DateTimeField(
        label=pgettext_lazy("call", "Call back at"),
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("For a call-back: when the person asked to be called."),
    )
    bant_budget = forms.ChoiceField(label=_("Budget"), required=False, choices=BantAnswer.choices)
    bant_authority = forms.ChoiceField(
        label=_("Authority"), required=False, choices=BantAnswer.choices
    )
    bant_need = forms.ChoiceField(label=_("Need"), required=False, choices=BantAnswer.choices)
    bant_timeframe = forms.ChoiceField(
        label=_("Timeframe"), required=False, choices=BantAnswer.choices
    )

    def service_args(self) -> dict[str, Any]:
        data = self.cleaned_data
        minutes = data.get("minutes")
        return {
            "outcome": data["outcome"],
            "duration": round(minutes * 60) if minutes is not None else None,
            "notes": data.get("notes") or "",
            "callback_at": data.get("callback_at")
            if data["outcome"] == CallOutcome.CALLBACK
            else None,
            "bant": {
                name: data.get(f"bant_{name}") or ""
                for name in ("budget", "authority", "need", "timeframe")
            },
        }


class DncForm(ServiceForm):
    phone = forms.CharField(label=_("Phone number"), max_length=40)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)


class DncImportForm(ServiceForm):
    file = forms.FileField(
        label=_("CSV file"), help_text=_("One number per line, in the first column.")
    )
    reason = forms.CharField(label=_("Reason"), required=False, max_length=300)
