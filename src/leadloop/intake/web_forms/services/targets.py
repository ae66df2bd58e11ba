"""The lead fields a web form question may fill, and the builder's own label for each."""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from leadloop.intake.mapping import TARGETS

# Lead fields a form may fill (from intake.mapping.TARGETS); the rest are set by the pipeline
# (consent, scores, dates) or are not something a visitor types.
FORM_TARGETS = (
    "first_name", "last_name", "full_name", "email", "phone", "company_name", "job_title",
    "street", "house_number", "postal_code", "city", "region", "country", "language",
    "comments", "campaign", "bant_budget", "bant_authority", "bant_need", "bant_timeframe",
    "potential_revenue", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "referrer", "landing_page",
)  # fmt: skip
assert set(FORM_TARGETS) <= TARGETS
TARGET_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name (split into first and last)"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "company_name": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "street": gettext_lazy("Street"),
    "house_number": gettext_lazy("House number"),
    "postal_code": gettext_lazy("Postal code"),
    "city": gettext_lazy("City"),
    "region": gettext_lazy("Region"),
    "country": gettext_lazy("Country"),
    "language": gettext_lazy("Language"),
    "comments": gettext_lazy("Comments"),
    "campaign": gettext_lazy("Campaign (by name)"),
    "bant_budget": gettext_lazy("BANT: budget"),
    "bant_authority": gettext_lazy("BANT: authority"),
    "bant_need": gettext_lazy("BANT: need"),
    "bant_timeframe": gettext_lazy("BANT: timeframe"),
    "potential_revenue": gettext_lazy("Potential revenue"),
    "utm_source": gettext_lazy("UTM source"),
    "utm_medium": gettext_lazy("UTM medium"),
    "utm_campaign": gettext_lazy("UTM campaign"),
    "utm_term": gettext_lazy("UTM term"),
    "utm_content": gettext_lazy("UTM content"),
    "referrer": gettext_lazy("Referrer"),
    "landing_page": gettext_lazy("Landing page"),
}
