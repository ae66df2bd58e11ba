"""One lead: edit it, move its status, assign it, log an activity."""

from __future__ import annotations

import json
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.accounts.permissions import writable_lead_fields
from leadloop.accounts.selectors import (
    get_defaults,
    is_staff_role,
    list_assignable_partners,
    list_assignable_teams,
    list_assignable_users,
)
from leadloop.leads import selectors
from leadloop.leads.forms.base import (
    BANT_CHOICES,
    DATETIME_WIDGET,
    UIForm,
    dt_local,
    field_label,
    text_field,
)
from leadloop.leads.models import (
    ActivityKind,
    FitGrade,
    Lead,
    LeadStatus,
)
from leadloop.leads.services import LOGGABLE_KINDS


def shown_value(value: Any) -> str:
    """An extra field's value as it is typed in a row: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class KeyValueWidget(forms.Widget):
    """Rows of name and value inputs (`<name>_key`, `<name>_value`) with add and remove buttons
    (`keyValueRows` in web/app.js); without scripting one blank row is always there."""

    template_name = "leads/widgets/key_value.html"
    is_wide = True

    def value_from_datadict(self, data: Any, files: Any, name: str) -> list[tuple[str, str]] | None:
        if f"{name}_key" not in data and f"{name}_value" not in data:
            return None
        keys, values = data.getlist(f"{name}_key"), data.getlist(f"{name}_value")
        return [
            (keys[i] if i < len(keys) else "", values[i] if i < len(values) else "")
            for i in range(max(len(keys), len(values)))
        ]

    def value_omitted_from_data(self, data: Any, files: Any, name: str) -> bool:
        return f"{name}_key" not in data

    def id_for_label(self, id_: str) -> str:
        return id_

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        if isinstance(value, dict):
            rows = [(str(k), shown_value(v)) for k, v in sorted(value.items())]
        else:
            rows = [(str(k), str(v)) for k, v in (value or []) if str(k).strip() or str(v).strip()]
        context["widget"]["rows"] = [*rows, ("", "")]
        widget_attrs = context["widget"]["attrs"]
        widget_attrs["aria_invalid"] = widget_attrs.get("aria-invalid")
        widget_attrs["aria_describedby"] = widget_attrs.get("aria-describedby")
        return context


class KeyValueField(forms.Field):
    """Named values typed as rows; cleans to a list of (name, value) with unique names."""

    widget = KeyValueWidget

    def to_python(self, value: Any) -> list[tuple[str, str]]:
        if isinstance(value, dict):
            return [(str(k), shown_value(v)) for k, v in value.items()]
        rows: list[tuple[str, str]] = []
        seen: set[str] = set()
        errors: list[forms.ValidationError] = []
        for raw_key, raw_value in value or []:
            key, text = str(raw_key).strip(), str(raw_value).strip()
            if not key and not text:
                continue
            if not key:
                errors.append(
                    forms.ValidationError(
                        _("Give the value “%(value)s” a name."), params={"value": text[:40]}
                    )
                )
                continue
            if len(key) > 100:
                errors.append(forms.ValidationError(_("A name can be at most 100 characters.")))
                continue
            if key in seen:
                errors.append(
                    forms.ValidationError(
                        _("The name “%(key)s” is used twice."), params={"key": key}
                    )
                )
                continue
            seen.add(key)
            rows.append((key, text))
        if errors:
            raise forms.ValidationError(errors)
        return rows

    def has_changed(self, initial: Any, data: Any) -> bool:
        try:
            return dict(self.to_python(data)) != dict(self.to_python(initial or {}))
        except forms.ValidationError:
            return True


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
    first_name = text_field("first_name", widget=forms.TextInput(attrs={"autocomplete": "off"}))
    last_name = text_field("last_name")
    email = text_field("email", widget=forms.EmailInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=64,
        widget=forms.TextInput(attrs={"type": "tel"}),
        help_text=_("Any notation; stored in international (E.164) form as well."),
    )
    job_title = text_field("job_title")
    language = text_field("language", help_text=_("A language code such as nl or en."))
    company_name = text_field("company_name")
    organization_id = forms.TypedChoiceField(
        label=field_label("organization"), required=False, coerce=int, empty_value=None
    )
    street = text_field("street")
    house_number = text_field("house_number")
    postal_code = text_field("postal_code")
    city = text_field("city")
    region = text_field("region")
    country = text_field("country", help_text=_("Two letters, e.g. NL, BE, DE."))
    campaign_id = forms.TypedChoiceField(
        label=_("Campaign"), required=False, coerce=int, empty_value=None
    )
    external_ref = text_field("external_ref")
    utm_source = forms.CharField(label=_("UTM source"), required=False, max_length=200)
    utm_medium = forms.CharField(label=_("UTM medium"), required=False, max_length=200)
    utm_campaign = forms.CharField(label=_("UTM campaign"), required=False, max_length=200)
    utm_term = forms.CharField(label=_("UTM term"), required=False, max_length=200)
    utm_content = forms.CharField(label=_("UTM content"), required=False, max_length=200)
    referrer = text_field("referrer", widget=forms.TextInput())
    landing_page = text_field("landing_page", widget=forms.TextInput())
    consent_purpose = text_field("consent_purpose")
    consent_at = forms.CharField(
        label=field_label("consent_at"), required=False, widget=DATETIME_WIDGET
    )
    consent_text_version = text_field("consent_text_version")
    fit_grade = forms.ChoiceField(
        label=field_label("fit_grade"),
        required=False,
        choices=[("", _("Not graded")), *FitGrade.choices],
    )
    bant_budget = forms.ChoiceField(label=_("Budget"), required=False, choices=BANT_CHOICES)
    bant_authority = forms.ChoiceField(label=_("Authority"), required=False, choices=BANT_CHOICES)
    bant_need = forms.ChoiceField(label=_("Need"), required=False, choices=BANT_CHOICES)
    bant_timeframe = forms.ChoiceField(label=_("Timeframe"), required=False, choices=BANT_CHOICES)
    potential_revenue = forms.CharField(
        label=field_label("potential_revenue"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    probability = forms.CharField(
        label=field_label("probability"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    order_value = forms.CharField(
        label=field_label("order_value"),
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    currency = forms.CharField(label=field_label("currency"), required=False, max_length=3)
    next_follow_up_at = forms.CharField(
        label=field_label("next_follow_up_at"), required=False, widget=DATETIME_WIDGET
    )
    extra = KeyValueField(
        label=_("Extra fields"),
        required=False,
        help_text=_("A name and a value per row, e.g. newsletter: yes."),
    )

    def __init__(
        self, data: QueryDict | None = None, *, actor: Actor, lead: Lead | None = None
    ) -> None:
        super().__init__(
            data, initial=self._initial(lead) if lead else {"currency": get_defaults().currency}
        )
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
            consent_at=dt_local(lead.consent_at),
            next_follow_up_at=dt_local(lead.next_follow_up_at),
            potential_revenue="" if lead.potential_revenue is None else lead.potential_revenue,
            order_value="" if lead.order_value is None else lead.order_value,
            probability="" if lead.probability is None else lead.probability,
            extra=lead.extra if isinstance(lead.extra, dict) else {},
        )
        return values

    def clean_extra(self) -> dict[str, Any]:
        """The rows as an object; a row left as it was keeps its stored value and type (the API
        may have sent a number, a list or true)."""
        rows: list[tuple[str, str]] = self.cleaned_data.get("extra") or []
        stored = (
            self.lead.extra if self.lead is not None and isinstance(self.lead.extra, dict) else {}
        )
        return {
            key: stored[key] if key in stored and shown_value(stored[key]) == value else value
            for key, value in rows
        }

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
    reason = forms.CharField(
        label=_("Why (optional)"),
        required=False,
        max_length=500,
        help_text=_("Shown on the lead's timeline, so whoever gets it knows why."),
    )

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
        """The service's keywords: the person, pool or partner, and the reason."""
        key, reason = self.cleaned_data["assignee"], self.cleaned_data.get("reason") or ""
        if key in self.users:
            return {"to": self.users[key], "reason": reason}
        if key in self.partners:
            return {"partner": self.partners[key], "reason": reason}
        return {"team": self.teams[key], "reason": reason}


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


class MoveLeadsForm(AssignForm):
    """Hand every open lead of one person to another person or a team's pool (the Move leads
    page): a rep who leaves or changes teams. Partners are not offered: moving a whole book to a
    partner is a routing decision, lead by lead."""

    owner = forms.ChoiceField(label=_("Whose open leads"))

    def __init__(
        self, data: QueryDict | None = None, *, actor: Actor, initial_owner: str = ""
    ) -> None:
        super().__init__(data, actor=actor)
        self.partners = {}
        self.owners: dict[str, User] = {str(u.pk): u for u in selectors.list_lead_owners_for(actor)}
        owner_field = cast(forms.ChoiceField, self.fields["owner"])
        owner_field.choices = [("", _("Choose a person"))] + [
            (key, u.display_name if u.is_active else f"{u.display_name} ({_('inactive')})")
            for key, u in self.owners.items()
        ]
        owner_field.initial = initial_owner
        cast(forms.ChoiceField, self.fields["assignee"]).choices = [
            ("", _("Choose a person or team")),
            (_("People"), [(key, u.display_name) for key, u in self.users.items()]),
            (_("Team pools"), [(key, t.name) for key, t in self.teams.items()]),
        ]
        self.order_fields(["owner", "assignee", "reason"])

    def chosen_owner(self) -> User:
        return self.owners[self.cleaned_data["owner"]]
