"""The Big List of Naughty Strings in every text field: stored as given, searchable, no crash."""

import json

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.errors import ValidationFailed
from leadloop.leads import selectors, services
from leadloop.leads.models import Lead
from tests.conftest import shared_data_path

TEXT_FIELDS = [
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "street",
    "city",
    "region",
    "referrer",
    "landing_page",
    "utm_campaign",
]


def _naughty_strings():
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        return [s for s in json.load(handle) if s.strip()]


def test_every_naughty_string_is_stored_as_given_and_search_survives_it(source):
    strings = _naughty_strings()

    for value in strings:
        fields = [
            f
            for f in TEXT_FIELDS
            if (Lead._meta.get_field(f).max_length or 10**6) >= len(value.strip())
        ]
        # The leads layer alone (the intake's prepare and save, without the assessment, which
        # tidies names): what is stored is what was given.
        lead = services.prepare_lead(dict.fromkeys(fields, value), source=source, by=SYSTEM)
        lead = services.save_new_lead(lead, by=SYSTEM)
        lead.refresh_from_db()
        assert {f: getattr(lead, f) for f in fields} == dict.fromkeys(fields, value.strip())
        selectors.list_leads(SYSTEM, selectors.LeadFilters(q=value), limit=5)

    assert Lead.objects.count() == len(strings)


def test_a_value_too_long_for_its_column_is_refused_with_a_field_error(source):
    with pytest.raises(ValidationFailed) as caught:
        assessment_services.create_lead({"city": "x" * 121}, source=source, by=SYSTEM)

    assert caught.value.errors == {"city": ["At most 120 characters."]}
