"""The subscription form: the address, what it is for, the events, and whether it is on."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.webhooks.catalog import EVENT_TYPES


class SubscriptionForm(forms.Form):
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

    def apply_service_error(self, exc: LeadloopError) -> None:
        """Put a domain error's messages next to the fields they name, the rest on top."""
        errors: dict[str, Any] = exc.errors if isinstance(exc, ValidationFailed) else {}
        if not errors:
            self.add_error(None, exc.detail)
        for name, messages in errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)
