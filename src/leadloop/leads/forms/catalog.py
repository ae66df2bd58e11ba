"""Organisations, sources (and their intake limits) and campaigns."""

from __future__ import annotations

from typing import cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor
from leadloop.leads import selectors
from leadloop.leads.forms.base import UIForm
from leadloop.leads.models import ChannelKind, MinimumContact, OnInvalidLead


class OrganizationForm(UIForm):
    name = forms.CharField(label=_("Name"), max_length=255)
    website = forms.CharField(label=_("Website"), required=False, max_length=255)
    industry = forms.CharField(label=_("Industry"), required=False, max_length=120)


class SourceForm(UIForm):
    name = forms.CharField(label=_("Name"), max_length=200)
    kind = forms.ChoiceField(label=_("Channel"), choices=ChannelKind.choices)
    default_country = forms.CharField(
        label=_("Default country"), required=False, max_length=2, help_text=_("e.g. NL")
    )
    default_language = forms.CharField(label=_("Default language"), required=False, max_length=8)


class SourceLimitsForm(UIForm):
    """A source's post limits; an empty field takes the deployment's default."""

    intake_limit = forms.IntegerField(label=_("Posts to the source"), required=False, min_value=0)
    intake_limit_per_address = forms.IntegerField(
        label=_("Posts from one address"), required=False, min_value=0
    )


class SourceRulesForm(UIForm):
    """What a lead from a source must carry, and what happens to one that is refused."""

    minimum_contact = forms.ChoiceField(
        label=_("A lead must carry"),
        choices=MinimumContact.choices,
        help_text=_(
            "A complete postal address is street, postal code and city, with a name or company."
        ),
    )
    on_invalid = forms.ChoiceField(
        label=_("A lead that is refused"),
        required=False,
        choices=[("", _("The channel's default")), *OnInvalidLead.choices],
        help_text=_(
            "For a lead with a bad value and too little left to reach the person. The channel's "
            "default refuses it on web forms, where the visitor can correct it at once, and keeps "
            "it for review from every other sender, which never sends it again."
        ),
    )


class CampaignForm(UIForm):
    source = forms.TypedChoiceField(label=_("Source"), coerce=int)
    name = forms.CharField(label=_("Name"), max_length=200)
    starts_on = forms.DateField(
        label=_("Starts on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=_("Ends on"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    budget_amount = forms.DecimalField(
        label=_("Budget"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")

    def __init__(self, data: QueryDict | None = None, *, actor: Actor) -> None:
        super().__init__(data)
        self.sources = {s.pk: s for s in selectors.list_sources(actor)}
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", "—")] + [
            (pk, s.name) for pk, s in self.sources.items()
        ]
