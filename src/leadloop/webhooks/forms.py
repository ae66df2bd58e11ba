"""The subscription form: the address, what it is for, the events, and whether it is on."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.forms import ServiceForm
from leadloop.webhooks.catalog import EVENT_TYPES


class SubscriptionForm(ServiceForm):
    url = forms.CharField(
        label=_("Endpoint URL"),
        max_length=500,
        help_text=_("An https:// address that accepts POST requests with a JSON body."),
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=200,
        required=False,
        help_text=_("What it is for, e.g. “CRM sync”."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"),
        widget=forms.CheckboxSelectMultiple,
        choices=[(name, f"{name}: {text}") for name, text in EVENT_TYPES.items()],
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("A paused webhook keeps its events and sends them when it is active again."),
    )
