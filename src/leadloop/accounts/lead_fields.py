"""Which of a lead's fields the users of a partner organisation see (issue 13, item 5).

A partner organisation keeps a list of field keys (`PartnerOrganization.visible_fields`); its
users see those and nothing else of the leads routed to them, in the app, the API and exports.
Staff see every field. The catalogue below is the one list of choosable keys: each key names the
Lead columns it covers (as strings, since accounts sits below leads), so the leads app can blank
them and the settings pages can offer them as grouped checkboxes.

Fields a partner always sees, because working the lead needs them: the lead's number, status,
owner, dates and follow-up times, and the partner's own timeline entries.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.errors import ValidationFailed


@dataclass(frozen=True)
class LeadField:
    """One choosable key: its label, its group on the settings page, and the Lead columns it
    covers (empty for what is not a column: the original submission, staff notes)."""

    key: str
    label: str | Promise
    group: str
    columns: tuple[str, ...] = ()


GROUPS: dict[str, str | Promise] = {
    "contact": gettext_lazy("Contact"),
    "address": gettext_lazy("Address"),
    "origin": gettext_lazy("Origin"),
    "qualification": gettext_lazy("Qualification and scores"),
    "deal": gettext_lazy("Deal"),
    "internal": gettext_lazy("Internal records"),
}

LEAD_FIELDS: tuple[LeadField, ...] = (
    LeadField("name", gettext_lazy("Name"), "contact", ("first_name", "last_name")),
    LeadField("email", gettext_lazy("E-mail"), "contact", ("email",)),
    LeadField("phone", gettext_lazy("Phone"), "contact", ("phone_raw", "phone_e164")),
    LeadField("job_title", gettext_lazy("Job title"), "contact", ("job_title",)),
    LeadField("language", gettext_lazy("Language"), "contact", ("language",)),
    LeadField("company", gettext_lazy("Company"), "contact", ("company_name", "organization")),
    LeadField(
        "consent",
        gettext_lazy("Consent record"),
        "contact",
        ("consent_purpose", "consent_at", "consent_text_version"),
    ),
    LeadField(
        "street", gettext_lazy("Street and house number"), "address", ("street", "house_number")
    ),
    LeadField("postal_code", gettext_lazy("Postal code"), "address", ("postal_code",)),
    LeadField("city", gettext_lazy("City and region"), "address", ("city", "region")),
    LeadField("country", gettext_lazy("Country"), "address", ("country",)),
    LeadField(
        "source",
        gettext_lazy("Source and campaign"),
        "origin",
        ("source", "campaign", "external_ref"),
    ),
    LeadField(
        "tracking",
        gettext_lazy("Campaign tracking (UTM, referrer, landing page)"),
        "origin",
        (
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_term",
            "utm_content",
            "referrer",
            "landing_page",
        ),
    ),
    LeadField("original", gettext_lazy("Original submission (raw payload)"), "origin"),
    LeadField(
        "bant",
        gettext_lazy("BANT answers"),
        "qualification",
        ("bant_budget", "bant_authority", "bant_need", "bant_timeframe"),
    ),
    LeadField("grade", gettext_lazy("Fit grade"), "qualification", ("fit_grade",)),
    LeadField(
        "scores",
        gettext_lazy("Scores (engagement, predictive, priority)"),
        "qualification",
        ("engagement_score", "predictive_score", "priority"),
    ),
    LeadField(
        "findings",
        gettext_lazy("Assessment findings and score breakdown"),
        "qualification",
        ("assessment", "assessed_at"),
    ),
    LeadField(
        "fraud",
        gettext_lazy("Fraud score and review hold"),
        "qualification",
        ("fraud_score", "hold"),
    ),
    LeadField(
        "device",
        gettext_lazy("Device (IP address, fingerprint, browser)"),
        "qualification",
        ("client_ip", "device_fingerprint"),
    ),
    LeadField(
        "revenue",
        gettext_lazy("Revenue, probability and order value"),
        "deal",
        ("potential_revenue", "probability", "order_value"),
    ),
    LeadField("extra", gettext_lazy("Extra fields (e.g. product interest)"), "deal", ("extra",)),
    LeadField("staff_notes", gettext_lazy("Notes and messages by your staff"), "internal"),
)

BY_KEY: dict[str, LeadField] = {field.key: field for field in LEAD_FIELDS}
KEYS: tuple[str, ...] = tuple(BY_KEY)

# What a new partner organisation (and every one that existed before the list) shows: what its
# users need to contact the person and sell, and the deal numbers they keep up to date. Never by
# default: where the lead came from, its scores and findings, fraud and device data, the raw
# payload and what the company's staff wrote.
DEFAULT_VISIBLE: tuple[str, ...] = (
    "name",
    "email",
    "phone",
    "job_title",
    "language",
    "company",
    "consent",
    "street",
    "postal_code",
    "city",
    "country",
    "revenue",
    "extra",
)


def default_visible_fields() -> list[str]:
    """The model default: a fresh list each time (a shared one would be changed in place)."""
    return list(DEFAULT_VISIBLE)


def clean_field_keys(keys: Iterable[str], *, field: str = "visible_fields") -> list[str]:
    """The keys in catalogue order without repeats; ValidationFailed naming any unknown key."""
    given = [str(key).strip() for key in keys]
    unknown = sorted({key for key in given if key not in BY_KEY})
    if unknown:
        message = _("Unknown field keys: %(keys)s. Choose from: %(choices)s.") % {
            "keys": ", ".join(unknown),
            "choices": ", ".join(KEYS),
        }
        raise ValidationFailed(message, errors={field: [message]})
    wanted = set(given)
    return [key for key in KEYS if key in wanted]


@dataclass(frozen=True)
class FieldView:
    """The lead fields one reader is shown: `lead.shown.phone` in a template, `shows("phone")`
    in code. An unknown key is a KeyError, so a typo in a template hides rather than shows."""

    hidden: frozenset[str] = frozenset()

    def shows(self, key: str) -> bool:
        if key not in BY_KEY:
            raise KeyError(key)
        return key not in self.hidden

    def __getitem__(self, key: str) -> bool:
        return self.shows(key)

    @property
    def everything(self) -> bool:
        return not self.hidden

    @property
    def hidden_columns(self) -> frozenset[str]:
        """The Lead columns (model field names) behind the hidden keys."""
        return frozenset(column for key in self.hidden for column in BY_KEY[key].columns)

    @property
    def visible_keys(self) -> list[str]:
        return [key for key in KEYS if key not in self.hidden]


ALL_FIELDS = FieldView()


def field_view(visible: Iterable[str] | None) -> FieldView:
    """The view of a partner organisation whose list is `visible` (unknown keys ignored: a key
    dropped from the catalogue in a later version shows nothing)."""
    wanted = set(visible or ())
    return FieldView(hidden=frozenset(key for key in KEYS if key not in wanted))
