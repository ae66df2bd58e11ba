"""The buyer form: the rules typed as lines of text, the way the routing page reads them."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.distribution import conditions
from leadloop.distribution.selling import formats
from leadloop.distribution.selling.models import Buyer, DeliveryMethod, Funding
from leadloop.distribution.selling.services.buyers import parse_price_rules, price_rules_as_text

DAYS = [
    ("1", _("Mon")),
    ("2", _("Tue")),
    ("3", _("Wed")),
    ("4", _("Thu")),
    ("5", _("Fri")),
    ("6", _("Sat")),
    ("7", _("Sun")),
]
LINES = {"rows": 4, "cols": 60}


class BuyerForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    is_active = forms.BooleanField(label=_("Buys leads"), required=False, initial=True)
    contact_name = forms.CharField(label=_("Contact person"), required=False, max_length=200)
    contact_email = forms.EmailField(label=_("Contact e-mail"), required=False)
    filters = forms.CharField(
        label=_("Filters (one condition a line)"),
        required=False,
        widget=forms.Textarea(attrs=LINES),
        help_text=_(
            "For example: country = NL · postal_code between 1000 and 3999 · grade in A, B"
        ),
    )
    price = forms.DecimalField(label=_("Price per lead"), min_value=0, decimal_places=2)
    price_rules = forms.CharField(
        label=_("Price rules (one a line)"),
        required=False,
        widget=forms.Textarea(attrs=LINES),
        help_text=_("For example: 40 if grade = A · 25 if grade = B"),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")
    cap_hour = forms.IntegerField(label=_("Most an hour"), required=False, min_value=0)
    cap_day = forms.IntegerField(label=_("Most a day"), required=False, min_value=0)
    cap_week = forms.IntegerField(label=_("Most a week"), required=False, min_value=0)
    cap_month = forms.IntegerField(label=_("Most a month"), required=False, min_value=0)
    cap_total = forms.IntegerField(label=_("Most in total"), required=False, min_value=0)
    work_days = forms.MultipleChoiceField(
        label=_("Buys on"), choices=DAYS, widget=forms.CheckboxSelectMultiple, required=False
    )
    hours_from = forms.TimeField(label=_("From"), required=False)
    hours_until = forms.TimeField(label=_("Until"), required=False)
    max_shares = forms.IntegerField(
        label=_("Shared with at most (buyers; 1 = exclusive)"), min_value=1, max_value=20, initial=1
    )
    funding = forms.ChoiceField(label=_("Funding"), choices=Funding.choices)
    credit_limit = forms.DecimalField(label=_("Credit limit"), min_value=0, initial=0)
    return_days = forms.IntegerField(label=_("Return window (days)"), min_value=0, initial=30)
    priority = forms.IntegerField(label=_("Priority"), initial=0)
    weight = forms.IntegerField(label=_("Weight"), min_value=1, initial=1)
    method = forms.ChoiceField(label=_("Delivery"), choices=DeliveryMethod.choices)
    url = forms.URLField(label=_("Post to"), required=False, max_length=500, assume_scheme="https")
    email_to = forms.EmailField(label=_("E-mail leads to"), required=False)
    field_map = forms.CharField(
        label=_("Field mapping (their name = our field)"),
        required=False,
        widget=forms.Textarea(attrs=LINES),
        help_text=_('Empty: our field names. A constant: vendor = "leadloop"'),
    )
    answer_rules = forms.CharField(
        label=_("Answer rules (one a line)"),
        required=False,
        widget=forms.Textarea(attrs=LINES),
        help_text=_("For example: json result = ok -> accepted · status 409 -> duplicate"),
    )
    timeout_ms = forms.IntegerField(label=_("Time-out (ms)"), min_value=100, initial=5000)
    retries = forms.IntegerField(label=_("Tries again"), min_value=0, max_value=5, initial=2)
    pings = forms.BooleanField(label=_("Bids by ping (ping-post)"), required=False)
    ping_url = forms.URLField(
        label=_("Ping to"), required=False, max_length=500, assume_scheme="https"
    )
    ping_fields = forms.CharField(
        label=_("Fields in the ping"),
        required=False,
        help_text=_("Comma-separated; no contact data"),
    )
    bid_path = forms.CharField(label=_("Bid price at (JSON path)"), initial="price")
    ping_timeout_ms = forms.IntegerField(label=_("Ping time-out (ms)"), min_value=50, initial=500)

    def clean_filters(self) -> list[dict[str, Any]]:
        try:
            return conditions.parse_text(self.cleaned_data["filters"])
        except conditions.ConditionError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_price_rules(self) -> list[dict[str, Any]]:
        try:
            return parse_price_rules(self.cleaned_data["price_rules"])
        except conditions.ConditionError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_field_map(self) -> list[list[str]]:
        try:
            return formats.parse_map(self.cleaned_data["field_map"])
        except formats.FormatError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_answer_rules(self) -> list[dict[str, str]]:
        try:
            return formats.parse_rules(self.cleaned_data["answer_rules"])
        except formats.FormatError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_ping_fields(self) -> list[str]:
        try:
            return formats.clean_ping_fields(self.cleaned_data["ping_fields"])
        except formats.FormatError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def data_for_service(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["work_days"] = "".join(data.get("work_days") or []) or "1234567"
        return data


def initial_for(buyer: Buyer) -> dict[str, Any]:
    fields = [name for name in BuyerForm.base_fields if hasattr(buyer, name)]
    initial = {name: getattr(buyer, name) for name in fields}
    initial.update(
        filters="\n".join(conditions.as_text(c) for c in buyer.filters),
        price_rules=price_rules_as_text(buyer.price_rules),
        field_map=formats.map_as_text(buyer.field_map),
        answer_rules=formats.rules_as_text(buyer.answer_rules),
        ping_fields=", ".join(buyer.ping_fields),
        work_days=list(buyer.work_days),
    )
    return initial


class TopUpForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount"), min_value=0.01, decimal_places=2)
    note = forms.CharField(label=_("Note"), required=False, max_length=300)


class ReturnForm(forms.Form):
    reason = forms.CharField(label=_("Why"), max_length=500)
