"""The lead list: its filters, bulk actions and saved views."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import Role
from leadloop.accounts.selectors import (
    list_assignable_users,
    list_teams,
)
from leadloop.leads import selectors
from leadloop.leads.forms.base import OWNER_ME, OWNER_UNASSIGNED, SORT_CHOICES, UIForm
from leadloop.leads.forms.lead import AssignForm, StatusForm
from leadloop.leads.models import (
    FitGrade,
    LeadStatus,
)


class LeadFilterForm(UIForm):
    """The lead list's query string. Invalid parts are ignored rather than failing the page."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.MultipleChoiceField(
        label=_("Status"), required=False, choices=LeadStatus.choices
    )
    show = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            ("open", _("Open leads")),
            ("closed", _("Closed leads")),
            ("all", _("Open and closed")),
        ],
    )
    owner = forms.ChoiceField(label=_("Owner"), required=False)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    source = forms.TypedChoiceField(label=_("Source"), required=False, coerce=int, empty_value=None)
    campaign = forms.TypedChoiceField(
        label=_("Campaign"), required=False, coerce=int, empty_value=None
    )
    grade = forms.MultipleChoiceField(
        label=_("Fit grade"), required=False, choices=FitGrade.choices
    )
    created_from = forms.DateField(
        label=_("Created from"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    created_to = forms.DateField(
        label=_("Created until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=SORT_CHOICES)

    def __init__(self, data: QueryDict, *, actor: Actor) -> None:
        # A rep works their open leads: won, lost and disqualified ones stay out of the way
        # until asked for. Everyone else sees the whole list first. The select shows what
        # applies (statuses picked by hand show whatever they pick).
        self.default_show = "open" if getattr(actor, "role", "") == Role.SALES_REP else "all"
        if not data.get("show"):
            data = data.copy()
            data["show"] = "all" if data.get("status") else self.default_show
        super().__init__(data)
        self.actor = actor
        # A partner user filters and sorts only on what their organisation shows them: the
        # grade filter and the sorts by hidden fields are not offered (their values ignored).
        shown = selectors.fields_shown_to(actor)
        if not shown.shows("grade"):
            cast(forms.ChoiceField, self.fields["grade"]).choices = []
        cast(forms.ChoiceField, self.fields["sort"]).choices = [
            (value, label) for value, label in SORT_CHOICES if selectors.sort_shown(shown, value)
        ]
        self.users = list(list_assignable_users(actor))
        self.teams = list(list_teams(actor))
        self.sources = list(selectors.list_sources(actor))
        self.campaigns = list(selectors.list_campaigns(actor))
        cast(forms.ChoiceField, self.fields["owner"]).choices = [
            ("", _("Anyone")),
            (OWNER_ME, _("Me")),
            (OWNER_UNASSIGNED, _("Unassigned")),
            *((str(u.pk), u.display_name) for u in self.users),
        ]
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", _("All teams"))] + [
            (t.pk, t.name) for t in self.teams
        ]
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", _("All sources"))] + [
            (s.pk, s.name) for s in self.sources
        ]
        cast(forms.ChoiceField, self.fields["campaign"]).choices = [("", _("All campaigns"))] + [
            (c.pk, c.name) for c in self.campaigns
        ]

    def _value(self, name: str) -> Any:
        """The cleaned value of one filter, or its empty value when that part was invalid."""
        if name in self.errors:
            return None
        return self.cleaned_data.get(name)

    def to_filters(self) -> selectors.LeadFilters:
        self.is_valid()
        owner = self._value("owner") or ""
        assigned_to = None
        if owner == OWNER_ME:
            assigned_to = getattr(self.actor, "pk", None)
        elif owner.isdigit():
            assigned_to = int(owner)
        # Statuses picked by hand say what to show; "Show" applies when none are picked.
        show = "all" if self._value("status") else (self._value("show") or self.default_show)
        return selectors.LeadFilters(
            status=tuple(self._value("status") or ()),
            state="" if show == "all" else show,
            assigned_to=assigned_to,
            unassigned=owner == OWNER_UNASSIGNED,
            team=self._value("team"),
            source=self._value("source"),
            campaign=self._value("campaign"),
            grade=tuple(self._value("grade") or ()),
            created_from=self._value("created_from"),
            created_to=self._value("created_to"),
            q=(self._value("q") or "").strip(),
            sort=self._value("sort") or selectors.DEFAULT_SORT,
        )

    @property
    def filter_count(self) -> int:
        """How many filters besides the search are set (the phone's one Filters button)."""
        self.is_valid()
        chosen = sum(1 for n in ("status", "grade") if self._value(n))
        chosen += bool(self._value("owner"))
        # "Show" counts when it was changed by hand: statuses picked by hand already count.
        chosen += not self._value("status") and self._value("show") not in (
            None,
            "",
            self.default_show,
        )
        return chosen + self.active_count

    @property
    def active_count(self) -> int:
        """How many filters beyond search and sort are set (shown on the 'More filters' button)."""
        self.is_valid()
        names = ("team", "source", "campaign", "created_from", "created_to")
        return sum(1 for n in names if self._value(n) not in (None, ""))


# --- Create and edit -----------------------------------------------------------------------------


class BulkForm(UIForm):
    """An action on the rows ticked in the lead list."""

    action = forms.ChoiceField(
        choices=(("assign", _("Assign")), ("status", _("Change status"))), label=_("Action")
    )
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, data: QueryDict, *, actor: Actor) -> None:
        super().__init__(data)
        self.ids = [int(v) for v in data.getlist("ids") if v.isdigit()][: selectors.MAX_PAGE]
        self.assign = AssignForm(data, actor=actor, prefix="bulk")
        self.status = StatusForm(data, actor=actor, prefix="bulk")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not self.ids:
            raise forms.ValidationError(_("Select at least one lead."))
        action = cleaned.get("action")
        sub = self.assign if action == "assign" else self.status
        if action and not sub.is_valid():
            for field, errors in sub.errors.items():
                for error in errors:
                    self.add_error(
                        None,
                        f"{sub.fields[field].label}: {error}" if field in sub.fields else error,
                    )
        return cleaned


class SavedViewForm(UIForm):
    name = forms.CharField(label=_("Name of this view"), max_length=100)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)


# --- Organisations, sources, campaigns -----------------------------------------------------------
