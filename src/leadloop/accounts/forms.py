"""Forms of the account pages. They parse and show input; the services decide what is valid."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, cast

from babel import Locale, UnknownLocaleError
from django import forms
from django.conf import settings
from django.http import QueryDict
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.defaults import Defaults, country_codes, currency_codes, time_zones
from leadloop.accounts.lead_fields import GROUPS, LEAD_FIELDS
from leadloop.accounts.models import Role, Team, User
from leadloop.accounts.selectors import (
    get_defaults,
    list_active_api_key_owners,
    list_partners,
    list_team_candidates,
    list_teams,
    sees_all_api_keys,
)
from leadloop.accounts.services import API_KEY_NAME_MAX
from leadloop.errors import LeadloopError, ValidationFailed


class ServiceForm(forms.Form):
    """A form that shows a service's domain errors next to its fields."""

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


class ApiKeyForm(ServiceForm):
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


def _choices(rows: Any) -> list[tuple[Any, str]]:
    return [("", "—"), *((row.pk, str(row)) for row in rows)]


class UserForm(ServiceForm):
    """A user as an admin sets them up: name, e-mail, role, team, partner, language, zone."""

    username = forms.CharField(label=_("User name"), max_length=150)
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
    team = forms.TypedChoiceField(label=_("Team"), coerce=int, required=False, empty_value=None)
    partner = forms.TypedChoiceField(
        label=_("Partner organisation"),
        coerce=int,
        required=False,
        empty_value=None,
        help_text=_("Required for partner users."),
    )
    language = forms.ChoiceField(label=_("Language"), required=False)
    time_zone = forms.CharField(label=_("Time zone"), max_length=64)

    def __init__(
        self, data: QueryDict | None = None, *, actor: Actor, user: User | None = None
    ) -> None:
        defaults = get_defaults()
        initial: dict[str, Any] = {"language": defaults.language, "time_zone": defaults.time_zone}
        if user is not None:
            initial = {
                "username": user.username,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "email": user.email,
                "role": user.role,
                "team": user.team_id,
                "partner": user.partner_id,
                "language": user.language,
                "time_zone": user.time_zone,
            }
        super().__init__(data, initial=initial)
        self.teams = {t.pk: t for t in list_teams(actor)}
        self.partners = {p.pk: p for p in list_partners(actor)}
        cast(forms.ChoiceField, self.fields["team"]).choices = _choices(self.teams.values())
        cast(forms.ChoiceField, self.fields["partner"]).choices = _choices(self.partners.values())
        cast(forms.ChoiceField, self.fields["language"]).choices = [
            ("", _("Browser default")),
            *settings.LANGUAGES,
        ]
        if user is not None:
            # The user name is who they log in as; it stays.
            del self.fields["username"]

    def profile(self) -> dict[str, Any]:
        """The cleaned values as service keyword arguments (team and partner as rows)."""
        data = dict(self.cleaned_data)
        data["team"] = self.teams.get(data.get("team") or 0)
        data["partner"] = self.partners.get(data.get("partner") or 0)
        data["language"] = data.get("language") or ""
        return data


class SetPasswordForm(ServiceForm):
    """A new password, typed twice."""

    password = forms.CharField(
        label=_("New password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password_again = forms.CharField(
        label=_("New password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("password") and data.get("password") != data.get("password_again"):
            self.add_error("password_again", _("The two passwords differ."))
        return data


class TeamForm(ServiceForm):
    """A team: its name, its manager and (when it exists) its members."""

    name = forms.CharField(label=_("Name"), max_length=200)
    manager = forms.TypedChoiceField(
        label=_("Manager"), coerce=int, required=False, empty_value=None
    )
    members = forms.TypedMultipleChoiceField(
        label=_("Members"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(
        self, data: QueryDict | None = None, *, actor: Actor, team: Team | None = None
    ) -> None:
        initial = None
        if team is not None:
            initial = {
                "name": team.name,
                "manager": team.manager_id,
                "members": list(team.members.values_list("pk", flat=True)),
            }
        super().__init__(data, initial=initial)
        self.users = {u.pk: u for u in list_team_candidates(actor)}
        managers = [u for u in self.users.values() if u.role in (Role.SALES_MANAGER, Role.ADMIN)]
        cast(forms.ChoiceField, self.fields["manager"]).choices = [
            ("", "—"),
            *((u.pk, f"{u.display_name} ({u.username})") for u in managers),
        ]
        cast(forms.ChoiceField, self.fields["members"]).choices = [
            (u.pk, f"{u.display_name} ({u.username})") for u in self.users.values()
        ]
        if team is None:
            del self.fields["members"]

    def chosen_manager(self) -> User | None:
        return self.users.get(self.cleaned_data.get("manager") or 0)

    def chosen_members(self) -> list[User]:
        return [self.users[pk] for pk in self.cleaned_data.get("members") or []]


class PartnerForm(ServiceForm):
    """A partner organisation: its name and whether it is active."""

    name = forms.CharField(label=_("Name"), max_length=200)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)


class PartnerEditForm(PartnerForm):
    """A partner organisation as its edit page changes it: also the lead fields its users see."""

    # Not `visible_fields`: that name is a method of every Django form.
    lead_fields = forms.MultipleChoiceField(
        label=_("Lead fields its users see"),
        required=False,
        choices=[(field.key, field.label) for field in LEAD_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Its users see only these fields of the leads routed to it: on the lead pages, in "
            "the lead list and its search, in exports and through the API. Status, owner, dates "
            "and their own timeline entries are always shown."
        ),
    )

    def field_groups(self) -> list[tuple[str, list[Any]]]:
        """The checkboxes grouped as the catalogue groups them (contact, address, …)."""
        boxes = {box.data["value"]: box for box in self["lead_fields"]}
        return [
            (str(label), [boxes[f.key] for f in LEAD_FIELDS if f.group == group])
            for group, label in GROUPS.items()
        ]

    def apply_service_error(self, exc: LeadloopError) -> None:
        if isinstance(exc, ValidationFailed) and "visible_fields" in exc.errors:
            exc.errors["lead_fields"] = exc.errors.pop("visible_fields")
        super().apply_service_error(exc)


def _babel_locale() -> Locale:
    try:
        return Locale.parse(translation.get_language() or settings.LANGUAGE_CODE, sep="-")
    except (ValueError, UnknownLocaleError):
        return Locale("en")


class DefaultsForm(ServiceForm):
    """The deployment's defaults: language, country, currency and time zone."""

    language = forms.ChoiceField(
        label=_("Language"),
        help_text=_("For new users, and for browsers that ask for no language."),
    )
    country = forms.ChoiceField(
        label=_("Country"),
        help_text=_(
            "Phone numbers and postal codes are read for this country when a lead does not say."
        ),
    )
    currency = forms.ChoiceField(
        label=_("Currency"), help_text=_("For amounts entered without a currency.")
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("For new users, and for users without a time zone of their own."),
    )

    def __init__(self, data: QueryDict | None = None, *, current: Defaults) -> None:
        super().__init__(data, initial=asdict(current))
        names = _babel_locale()
        countries = sorted(
            ((code, names.territories.get(code, code)) for code in country_codes()),
            key=lambda pair: pair[1],
        )
        currencies = sorted(
            (code, f"{code} – {names.currencies.get(code, code)}") for code in currency_codes()
        )
        cast(forms.ChoiceField, self.fields["language"]).choices = settings.LANGUAGES
        cast(forms.ChoiceField, self.fields["country"]).choices = [
            (code, f"{name} ({code})") for code, name in countries
        ]
        cast(forms.ChoiceField, self.fields["currency"]).choices = currencies
        cast(forms.ChoiceField, self.fields["time_zone"]).choices = [
            (zone, zone) for zone in time_zones()
        ]
