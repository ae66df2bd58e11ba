"""Forms of the account pages. They parse and show input; the services decide what is valid."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.selectors import list_active_api_key_owners, sees_all_api_keys
from leadloop.accounts.services import API_KEY_NAME_MAX
from leadloop.errors import LeadloopError, ValidationFailed


class ApiKeyForm(forms.Form):
    """A new API key: what it is for, and (for admins) whose it is."""

    name = forms.CharField(
        label=_("Name"),
        max_length=API_KEY_NAME_MAX,
        help_text=_("What the key is for, e.g. “CRM sync”."),
    )
    user = forms.TypedChoiceField(label=_("For"), coerce=int, required=False, empty_value=None)

    def __init__(self, data: QueryDict | None = None, *, actor: Actor) -> None:
        super().__init__(data)
        if sees_all_api_keys(actor):
            self.owners = {u.pk: u for u in list_active_api_key_owners(actor)}
            cast(forms.ChoiceField, self.fields["user"]).choices = [("", _("Myself"))] + [
                (pk, f"{u.display_name} ({u.username})") for pk, u in self.owners.items()
            ]
        else:
            self.owners = {}
            del self.fields["user"]

    def owner(self, actor: User) -> User:
        chosen = self.cleaned_data.get("user")
        return self.owners[chosen] if chosen else actor

    def apply_service_error(self, exc: LeadloopError) -> None:
        """Put a domain error's messages next to the fields they name, the rest on top."""
        if not isinstance(exc, ValidationFailed) or not exc.errors:
            self.add_error(None, exc.detail)
        for name, messages in exc.errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_errors"
