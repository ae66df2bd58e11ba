"""The pipeline board's filters and the move of a card to another stage."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor
from leadloop.errors import ValidationFailed
from leadloop.leads.models import LeadStatus
from leadloop.sales.selectors import pipeline as selectors

FILTER_NAMES = ("team", "owner", "source", "close_month")


class PipelineFilterForm(forms.Form):
    """The board's query string. An invalid part is ignored (and marked) rather than failing
    the page, as on the lead list."""

    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label=_("Rep"), required=False, coerce=int, empty_value=None)
    source = forms.TypedChoiceField(label=_("Source"), required=False, coerce=int, empty_value=None)
    close_month = forms.CharField(
        label=_("Expected close"),
        required=False,
        max_length=7,
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-05"}),
    )

    def __init__(self, data: QueryDict, *, actor: Actor) -> None:
        super().__init__({name: data.get(name, "") for name in FILTER_NAMES})
        teams = selectors.list_filter_teams(actor)
        reps = selectors.list_filter_reps(actor)
        sources = selectors.list_filter_sources(actor)
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", _("All teams"))] + [
            (team.pk, team.name) for team in teams
        ]
        cast(forms.ChoiceField, self.fields["owner"]).choices = [("", _("Everyone"))] + [
            (user.pk, user.display_name) for user in reps
        ]
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", _("All sources"))] + [
            (source.pk, source.name) for source in sources
        ]

    def clean_close_month(self) -> Any:
        try:
            return selectors.parse_month(self.cleaned_data.get("close_month") or "")
        except ValidationFailed as exc:
            raise forms.ValidationError(exc.detail) from exc

    def _value(self, name: str) -> Any:
        if name in self.errors:
            return None
        return self.cleaned_data.get(name)

    def to_filters(self) -> selectors.PipelineFilters:
        self.is_valid()
        return selectors.PipelineFilters(
            team=self._value("team"),
            owner=self._value("owner"),
            source=self._value("source"),
            close_month=self._value("close_month"),
        )

    def query(self) -> dict[str, str]:
        """The valid filters as query parameters (links and the move form carry them on)."""
        self.is_valid()
        return {
            name: str(self.data.get(name))
            for name in FILTER_NAMES
            if self.data.get(name) and name not in self.errors
        }


class MoveForm(forms.Form):
    """Move a card to another stage of the board (the lifecycle decides whether it may)."""

    to = forms.ChoiceField(
        label=_("Move to"),
        choices=[(status, LeadStatus(status).label) for status in selectors.STAGES],
    )
