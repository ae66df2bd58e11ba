"""Forms of the lead pages. They parse and show input; the services decide what is valid."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, cast

from django import forms
from django.db.models import Field
from django.http import QueryDict
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.accounts.permissions import writable_lead_fields
from leadloop.accounts.selectors import (
    is_staff_role,
    list_assignable_partners,
    list_assignable_teams,
    list_assignable_users,
    list_teams,
)
from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.leads import selectors
from leadloop.leads.models import (
    ActivityKind,
    BantAnswer,
    ChannelKind,
    FitGrade,
    Lead,
    LeadStatus,
)
from leadloop.leads.services import LOGGABLE_KINDS

OWNER_ME = "me"
OWNER_UNASSIGNED = "unassigned"
SORT_CHOICES = (
    ("-created_at", _("Newest first")),
    ("created_at", _("Oldest first")),
    ("-updated_at", _("Recently updated")),
    ("last_name", _("Last name A–Z")),
    ("-last_name", _("Last name Z–A")),
    ("-priority", _("Highest priority")),
    ("-engagement_score", _("Most engaged")),
)


class UIForm(forms.Form):
    """A form whose invalid fields say so to screen readers, and that takes service errors."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_errors"

    def apply_service_error(self, exc: LeadloopError) -> None:
        """Put a domain error's messages next to the fields they name, the rest on top."""
        if not isinstance(exc, ValidationFailed) or not exc.errors:
            # A refusal (wrong state, not allowed) is about the whole action: say it on top.
            self.add_error(None, exc.detail)
        for name, messages in exc.errors.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message if target else f"{name}: {message}")


# --- Lead list -----------------------------------------------------------------------------------


class LeadFilterForm(UIForm):
    """The lead list's query string. Invalid parts are ignored rather than failing the page."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    status = forms.MultipleChoiceField(
        label=_("Status"), required=False, choices=LeadStatus.choices
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
        super().__init__(data)
        self.actor = actor
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
        return selectors.LeadFilters(
            status=tuple(self._value("status") or ()),
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
    def active_count(self) -> int:
        """How many filters beyond search and sort are set (shown on the 'More filters' button)."""
        self.is_valid()
        names = ("team", "source", "campaign", "created_from", "created_to")
        return sum(1 for n in names if self._value(n) not in (None, ""))


# --- Create and edit -----------------------------------------------------------------------------


def _model_field(field: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", Lead._meta.get_field(field))


def _label(field: str) -> str:
    return str(capfirst(_model_field(field).verbose_name))


def _text(field: str, **kwargs: Any) -> forms.CharField:
    max_length = _model_field(field).max_length
    return forms.CharField(label=_label(field), required=False, max_length=max_length, **kwargs)


def _dt_local(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"})
BANT_CHOICES = [("", _("Unknown")), *BantAnswer.choices[1:]]


class LeadForm(UIForm):
    """Every field a person may set on a lead, grouped as on the detail page."""

    GROUPS = (
        (_("Person"), ("first_name", "last_name", "email", "phone", "job_title", "language")),
        (_("Company"), ("company_name", "organization_id")),
        (
            _("Address"),
            ("street", "house_number", "postal_code", "city", "region", "country"),
        ),
        (
            _("Origin & UTM"),
            (
                "source",
                "campaign_id",
                "external_ref",
                "utm_source",
                "utm_medium",
                "utm_campaign",
                "utm_term",
                "utm_content",
                "referrer",
                "landing_page",
            ),
        ),
        (_("Consent"), ("consent_purpose", "consent_at", "consent_text_version")),
        (
            _("Assessment & BANT"),
            ("fit_grade", "bant_budget", "bant_authority", "bant_need", "bant_timeframe"),
        ),
        (
            _("Money & follow-up"),
            (
                "potential_revenue",
                "probability",
                "order_value",
                "currency",
                "next_follow_up_at",
            ),
        ),
        (_("Extra fields"), ("extra",)),
    )

    source = forms.TypedChoiceField(label=_("Source"), coerce=int)
    first_name = _text("first_name", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = _text("last_name")
    email = _text("email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"type": "tel"}),
        help_text=_("Any notation; stored in international (E.164) form as well."),
    )
    job_title = _text("job_title")
    language = _text("language", help_text=_("A language code such as nl or en."))
    company_name = _text("company_name")
    organization_id = forms.TypedChoiceField(
        label=_label("organization"), required=False, coerce=int, empty_value=None
    )
    street = _text("street")
    house_number = _text("house_number")
    postal_code = _text("postal_code")
    city = _text("city")
    region = _text("region")
    country = _text("country", help_text=_("Two letters, e.g. NL, BE, DE."))
    campaign_id = forms.TypedChoiceField(
        label=_("Campaign"), required=False, coerce=int, empty_value=None
    )
    external_ref = _text("external_ref")
    utm_source = forms.CharField(label=_("UTM source"), required=False, max_length=200)
    utm_medium = forms.CharField(label=_("UTM medium"), required=False, max_length=200)
    utm_campaign = forms.CharField(label=_("UTM campaign"), required=False, max_length=200)
    utm_term = forms.CharField(label=_("UTM term"), required=False, max_length=200)
    utm_content = forms.CharField(label=_("UTM content"), required=False, max_length=200)
    referrer = _text("referrer", widget=forms.TextInput())
    landing_page = _text("landing_page", widget=forms.TextInput())
    consent_purpose = _text("consent_purpose")
    consent_at = forms.CharField(label=_label("consent_at"), required=False, widget=DATETIME_WIDGET)
    consent_text_version = _text("consent_text_version")
    fit_grade = forms.ChoiceField(
        label=_label("fit_grade"),
        required=False,
        choices=[("", _("Not graded")), *FitGrade.choices],
    )
    bant_budget = forms.ChoiceField(label=_("Budget"), required=False, choices=BANT_CHOICES)
    bant_authority = forms.ChoiceField(label=_("Authority"), required=False, choices=BANT_CHOICES)
    bant_need = forms.ChoiceField(label=_("Need"), required=False, choices=BANT_CHOICES)
    bant_timeframe = forms.ChoiceField(label=_("Timeframe"), required=False, choices=BANT_CHOICES)
    potential_revenue = forms.CharField(
        label=_label("potential_revenue"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    probability = forms.CharField(
        label=_label("probability"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    order_value = forms.CharField(
        label=_label("order_value"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.CharField(label=_label("currency"), required=False, max_length=3)
    next_follow_up_at = forms.CharField(
        label=_label("next_follow_up_at"), required=False, widget=DATETIME_WIDGET
    )
    extra = forms.CharField(
        label=_("Extra fields (JSON)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false"}),
        help_text=_('An object, e.g. {"newsletter": true}.'),
    )

    def __init__(
        self, data: QueryDict | None = None, *, actor: Actor, lead: Lead | None = None
    ) -> None:
        super().__init__(data, initial=self._initial(lead) if lead else {"currency": "EUR"})
        self.lead = lead
        if lead is not None:
            del self.fields["source"]
        else:
            cast(forms.ChoiceField, self.fields["source"]).choices = [("", "—")] + [
                (s.pk, s.name) for s in selectors.list_sources(actor).filter(is_active=True)
            ]
        writable = writable_lead_fields(actor)
        if writable is not None:
            # Only the fields the role may change are on the form (accounts.permissions); a value
            # posted for another one is not a field of the form, so it is never read.
            for name in [n for n in self.fields if n != "source" and n not in writable]:
                del self.fields[name]
        if not is_staff_role(actor) or "organization_id" not in self.fields:
            return
        organizations = selectors.list_organizations(actor, limit=500)
        if lead is not None and lead.organization and lead.organization not in organizations:
            organizations.append(lead.organization)
        cast(forms.ChoiceField, self.fields["organization_id"]).choices = [("", "—")] + [
            (o.pk, o.name) for o in organizations
        ]
        campaigns = selectors.list_campaigns(actor)
        if lead is not None:
            campaigns = campaigns.filter(source_id=lead.source_id)
        cast(forms.ChoiceField, self.fields["campaign_id"]).choices = [("", "—")] + [
            (c.pk, f"{c.name} ({c.source.name})") for c in campaigns
        ]

    @staticmethod
    def _initial(lead: Lead) -> dict[str, Any]:
        values: dict[str, Any] = {name: getattr(lead, name) for name in LEAD_TEXT_FIELDS}
        values.update(
            phone=lead.phone_raw,
            organization_id=lead.organization_id,
            campaign_id=lead.campaign_id,
            consent_at=_dt_local(lead.consent_at),
            next_follow_up_at=_dt_local(lead.next_follow_up_at),
            potential_revenue="" if lead.potential_revenue is None else lead.potential_revenue,
            order_value="" if lead.order_value is None else lead.order_value,
            probability="" if lead.probability is None else lead.probability,
            extra=json.dumps(lead.extra, ensure_ascii=False, sort_keys=True) if lead.extra else "",
        )
        return values

    def clean_extra(self) -> dict[str, Any] | None:
        raw = self.cleaned_data.get("extra", "").strip()
        if not raw:
            return {}
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(_("Not valid JSON.")) from exc
        if not isinstance(value, dict):
            raise forms.ValidationError(_("Expected an object in curly braces."))
        return value

    def groups(self) -> list[tuple[str, list[forms.BoundField]]]:
        groups = [
            (str(title), [self[name] for name in names if name in self.fields])
            for title, names in self.GROUPS
        ]
        return [(title, fields) for title, fields in groups if fields]

    def service_data(self) -> dict[str, Any]:
        """The input for create_lead/update_lead: everything on create, what changed on edit."""
        names = [n for n in self.fields if n != "source"]
        if self.lead is not None:
            names = [n for n in names if n in self.changed_data]
        data = {name: self.cleaned_data.get(name) for name in names}
        if self.lead is None:
            data = {k: v for k, v in data.items() if v not in ("", None, {})}
        return data


# Lead attributes whose value is shown in the edit form as it is stored.
LEAD_TEXT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "job_title",
    "language",
    "company_name",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "country",
    "external_ref",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "landing_page",
    "consent_purpose",
    "consent_text_version",
    "currency",
    "fit_grade",
    "bant_budget",
    "bant_authority",
    "bant_need",
    "bant_timeframe",
)


# --- Actions on one lead -------------------------------------------------------------------------


class StatusForm(UIForm):
    """Move a lead; `lost` needs a reason, `won` may carry the order value."""

    to = forms.ChoiceField(label=_("New status"), choices=LeadStatus.choices)
    lost_reason = forms.TypedChoiceField(
        label=_("Lost reason"), required=False, coerce=int, empty_value=None
    )
    order_value = forms.DecimalField(
        label=_("Order value"), required=False, min_value=0, max_digits=14, decimal_places=2
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=2000)

    def __init__(self, data: QueryDict | None = None, *, actor: Actor, prefix: str = "") -> None:
        super().__init__(data, prefix=prefix or None)
        self.reasons = {r.pk: r for r in selectors.list_lost_reasons(actor)}
        cast(forms.ChoiceField, self.fields["lost_reason"]).choices = [
            ("", _("Choose a reason"))
        ] + [(pk, r.name) for pk, r in self.reasons.items()]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("to") == LeadStatus.LOST and not cleaned.get("lost_reason"):
            self.add_error("lost_reason", _("Say why the lead was lost."))
        return cleaned

    @property
    def reason(self) -> Any:
        return self.reasons.get(self.cleaned_data.get("lost_reason") or 0)


class AssignForm(UIForm):
    """Give a lead to a person, a team pool or a partner: user:<id>, team:<id> or partner:<id>.

    The choices are exactly what the actor may assign to; the service checks again.
    """

    assignee = forms.ChoiceField(label=_("Assign to"))

    def __init__(self, data: QueryDict | None = None, *, actor: Actor, prefix: str = "") -> None:
        super().__init__(data, prefix=prefix or None)
        self.users: dict[str, User] = {f"user:{u.pk}": u for u in list_assignable_users(actor)}
        self.teams: dict[str, Team] = {f"team:{t.pk}": t for t in list_assignable_teams(actor)}
        self.partners: dict[str, PartnerOrganization] = {
            f"partner:{p.pk}": p for p in list_assignable_partners(actor)
        }
        choices: list[Any] = [
            ("", _("Choose a person or team")),
            (_("People"), [(key, u.display_name) for key, u in self.users.items()]),
            (_("Team pools"), [(key, t.name) for key, t in self.teams.items()]),
        ]
        if self.partners:
            choices.append((_("Partners"), [(k, p.name) for k, p in self.partners.items()]))
        cast(forms.ChoiceField, self.fields["assignee"]).choices = choices

    @property
    def is_available(self) -> bool:
        return bool(self.users or self.teams or self.partners)

    def target(self) -> dict[str, Any]:
        key = self.cleaned_data["assignee"]
        if key in self.users:
            return {"to": self.users[key]}
        if key in self.partners:
            return {"partner": self.partners[key]}
        return {"team": self.teams[key]}


class ActivityForm(UIForm):
    kind = forms.ChoiceField(
        label=_("Type"),
        choices=[(k.value, ActivityKind(k).label) for k in LOGGABLE_KINDS],
        initial=ActivityKind.NOTE,
    )
    message = forms.CharField(
        label=_("What happened?"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


# --- Bulk actions and saved views ----------------------------------------------------------------


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
