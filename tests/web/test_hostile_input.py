"""Text from strangers is shown inertly: every naughty string renders escaped on the lead page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from leadloop.assessment import services as assessment_services
from leadloop.errors import ValidationFailed
from leadloop.leads import services
from leadloop.leads.models import Lead
from tests.conftest import shared_data_path

# Free-text fields; e-mail, country and language are validated and cannot hold arbitrary text.
FREE_TEXT = (
    "first_name",
    "last_name",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "job_title",
    "company_name",
    "consent_purpose",
    "consent_text_version",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referrer",
    "landing_page",
)


def _naughty_strings() -> list[str]:
    with open(shared_data_path("hostile", "blns.txt"), encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for line in handle]
    return [line for line in lines if line.strip() and not line.startswith("#")]


def _limit(field: str) -> int:
    return Lead._meta.get_field(field).max_length or 10_000


def test_every_naughty_string_renders_escaped_on_the_lead_page(logged_in_client, admin, source):
    client = logged_in_client(admin)
    checked = 0

    for n, text in enumerate(_naughty_strings()):
        data = {field: text[: _limit(field)] for field in FREE_TEXT}
        data["extra"] = {"note": text}
        try:
            lead = assessment_services.create_lead(data, source=source, by=admin)
        except ValidationFailed:
            continue  # e.g. a NUL byte, which the service refuses to store
        page = client.get(reverse("leads:lead-detail", args=[lead.pk])).text

        for field in FREE_TEXT:
            stored = getattr(lead, field)
            assert escape(stored) in page, (n, field, stored)
            if "<" in stored:
                assert stored not in page, (n, field, stored)
        checked += 1

    assert checked > 500


@pytest.mark.parametrize(
    "payload",
    [
        '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">',
        "'; alert(1); //",
        '"><svg onload=alert(1)>',
    ],
)
def test_markup_in_a_name_is_text_in_the_list_and_timeline(
    logged_in_client, admin, source, payload
):
    # Stored as given (the leads layer without the assessment, which tidies names).
    lead = services.prepare_lead({"first_name": payload}, source=source, by=admin)
    lead = services.save_new_lead(lead, by=admin)
    services.log_activity(lead, kind="note", message=payload, by=admin)
    client = logged_in_client(admin)

    listing = client.get(reverse("leads:lead-list")).text
    detail = client.get(reverse("leads:lead-detail", args=[lead.pk])).text

    assert escape(payload) in listing
    assert payload not in listing
    assert detail.count(escape(payload)) >= 3
    assert payload not in detail
