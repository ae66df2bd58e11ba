"""The offline enrichment providers, inline at intake: organisation from a business e-mail,
country/time zone/line type from the phone, region from the postal code, language from the
country. They only fill what the lead left empty."""

from __future__ import annotations

import json

import phonenumbers
import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import enrichment
from leadloop.assessment import services as assessment_services
from leadloop.intake import services as intake
from leadloop.intake.models import SubmissionState
from leadloop.leads import services as leads_services
from leadloop.leads.models import Lead
from tests.conftest import shared_data_path
from tests.factories.leads import make_source


@pytest.fixture
def nl_source(db):
    return make_source("Web NL", country="NL")


@pytest.fixture
def acme(db):
    return leads_services.create_organization(name="Acme BV", by=SYSTEM, domain="acme.nl")


def _submit(source, fields):
    submission = intake.receive(
        source=source,
        channel="http",
        body=json.dumps(fields).encode(),
        content_type="application/json",
    )
    done = intake.process_submission(submission.pk)
    assert done.state == SubmissionState.PROCESSED, done.reasons
    return Lead.objects.get(pk=done.lead_id)


def _appended(lead):
    return lead.assessment["appended"]


def _codes(lead):
    return [f["code"] for f in lead.assessment["findings"] if f["stage"] == "enrich"]


# --- Company domain and organisation -------------------------------------------------------------


def test_a_business_email_links_the_organisation_that_uses_its_domain(nl_source, acme):
    lead = _submit(nl_source, {"first_name": "Ann", "email": "ann@acme.nl"})

    assert lead.organization_id == acme.pk
    assert lead.company_name == "Acme BV"
    assert _appended(lead)["organization_id"]["value"] == acme.pk
    assert _appended(lead)["organization_id"]["provider"] == "email_domain"
    assert _appended(lead)["company_name"]["value"] == "Acme BV"
    assert _appended(lead)["company_domain"]["value"] == "acme.nl"
    assert _appended(lead)["company_domain"]["at"] == lead.assessed_at.isoformat(timespec="seconds")
    assert "organization_matched" in _codes(lead)


def test_a_subdomain_address_matches_the_organisation_of_its_parent_domain(nl_source, acme):
    lead = _submit(nl_source, {"email": "ann@sales.acme.nl"})

    assert lead.organization_id == acme.pk


def test_a_given_company_name_is_kept_when_the_organisation_is_linked(nl_source, acme):
    lead = _submit(nl_source, {"email": "ann@acme.nl", "company_name": "Acme Holding"})

    assert lead.organization_id == acme.pk
    assert lead.company_name == "Acme Holding"
    assert "company_name" not in _appended(lead)


@pytest.mark.parametrize(
    "email",
    ["ann@gmail.com", "ann@hotmail.co.uk", "ann@yahoo.fr", "ann@ziggo.nl", "ann@kpnmail.nl"],
)
def test_free_mail_domains_are_not_company_domains(nl_source, email):
    domain = email.split("@")[1]
    leads_services.create_organization(name="Wrongly set up", by=SYSTEM, domain=domain)

    lead = _submit(nl_source, {"email": email})

    assert lead.organization_id is None
    assert lead.company_name == ""
    assert "company_domain" not in _appended(lead)


def test_a_disposable_domain_is_not_a_company_domain(nl_source):
    lead = _submit(nl_source, {"email": "ann@mailinator.com"})

    assert "company_domain" not in _appended(lead)
    assert lead.organization_id is None


def test_a_business_domain_no_organisation_uses_is_still_recorded(nl_source, acme):
    lead = _submit(nl_source, {"email": "bob@example-widgets.nl"})

    assert lead.organization_id is None
    assert _appended(lead)["company_domain"]["value"] == "example-widgets.nl"
    assert "company_domain" in _codes(lead)


def test_two_organisations_with_one_domain_link_neither(nl_source, acme):
    leads_services.create_organization(name="Acme Belgium", by=SYSTEM, domain="acme.nl")

    lead = _submit(nl_source, {"email": "ann@acme.nl"})

    assert lead.organization_id is None
    assert "organization_id" not in _appended(lead)
    assert "organization_ambiguous" in _codes(lead)


# --- Phone ---------------------------------------------------------------------------------------


def test_a_mobile_number_gives_country_time_zone_line_type_and_carrier(nl_source):
    lead = _submit(nl_source, {"email": "jan@example.be", "phone": "+32 470 12 34 56"})

    assert lead.country == "BE"
    assert _appended(lead)["country"]["provider"] == "phone"
    assert _appended(lead)["line_type"]["value"] == "mobile"
    assert _appended(lead)["time_zone"]["value"] == "Europe/Brussels"
    assert _appended(lead)["carrier"]["value"] == "Proximus"
    assert "phone_line" in _codes(lead)


def test_a_dutch_landline_gives_fixed_line_and_amsterdam_time(nl_source):
    lead = _submit(nl_source, {"email": "ann@example.nl", "phone": "020 555 1234"})

    assert _appended(lead)["line_type"]["value"] == "fixed_line"
    assert _appended(lead)["time_zone"]["value"] == "Europe/Amsterdam"
    assert "carrier" not in _appended(lead)


def test_a_us_landline_gets_the_time_zone_of_its_area_code(nl_source):
    lead = _submit(nl_source, {"email": "ann@example.com", "phone": "+1 415 555 2671"})

    assert lead.country == "US"
    assert _appended(lead)["time_zone"]["value"] == "America/Los_Angeles"


def test_the_phone_does_not_replace_a_given_country(nl_source):
    lead = _submit(nl_source, {"email": "ann@example.nl", "country": "NL", "phone": "+32470123456"})

    assert lead.country == "NL"
    assert "country" not in _appended(lead)
    assert _appended(lead)["time_zone"]["value"] == "Europe/Brussels"


def test_e164_numbers_are_read_exactly_as_phonenumbers_parses_them():
    examples = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        for region in sorted(phonenumbers.SUPPORTED_REGIONS)
        for kind in range(11)
        if (number := phonenumbers.example_number_for_type(region, kind)) is not None
    ]

    mismatches = [e for e in examples if enrichment.number_from_e164(e) != phonenumbers.parse(e)]

    assert len(examples) > 1000
    assert mismatches == []


# --- Postal code ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "postal_code", "region"),
    [
        ("NL", "1012 AB", "Noord-Holland"),
        ("NL", "1315 KA", "Flevoland"),
        ("NL", "2511 CV", "Zuid-Holland"),
        ("NL", "3511 LN", "Utrecht"),
        ("NL", "5611 AZ", "Noord-Brabant"),
        ("NL", "6211 CN", "Limburg"),
        ("NL", "6811 AA", "Gelderland"),
        ("NL", "7511 JM", "Overijssel"),
        ("NL", "8911 AA", "Fryslân"),
        ("NL", "9401 AA", "Drenthe"),
        ("NL", "9712 CP", "Groningen"),
        ("NL", "4331 AA", "Zeeland"),
        ("BE", "2000", "Antwerpen"),
        ("BE", "1000", "Brussel/Bruxelles"),
        ("BE", "4000", "Liège"),
        ("BE", "9000", "Oost-Vlaanderen"),
        ("DE", "80331", "Bayern"),
        ("DE", "10115", "Berlin"),
        ("DE", "50667", "Nordrhein-Westfalen"),
        ("US", "94105", "California"),
        ("ES", "03001", "Alicante"),
    ],
)
def test_the_postal_code_gives_the_region(nl_source, country, postal_code, region):
    lead = _submit(
        nl_source, {"email": "ann@example.org", "country": country, "postal_code": postal_code}
    )

    assert lead.region == region
    assert _appended(lead)["region"]["provider"] == "postal_code"


@pytest.mark.parametrize(
    ("country", "postal_code"),
    [("DE", "01067"), ("DE", "2211"), ("NL", "AB12"), ("FR", "75001"), ("NL", "")],
)
def test_a_postal_code_that_is_not_covered_leaves_the_region_empty(nl_source, country, postal_code):
    lead = _submit(
        nl_source, {"email": "ann@example.org", "country": country, "postal_code": postal_code}
    )

    assert lead.region == ""
    assert "region" not in _appended(lead)


def test_a_given_region_is_kept(nl_source):
    lead = _submit(
        nl_source,
        {"email": "ann@example.org", "country": "NL", "postal_code": "1012 AB", "region": "NH"},
    )

    assert lead.region == "NH"
    assert "region" not in _appended(lead)


# --- Language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("country", "postal_code", "language"),
    [
        ("NL", "", "nl"),
        ("DE", "", "de"),
        ("FR", "", "fr"),
        ("BE", "2000", "nl"),
        ("BE", "4000", "fr"),
        ("BE", "4700", "de"),
        ("BE", "1000", ""),
        ("BE", "", ""),
        ("CH", "8001", ""),
    ],
)
def test_the_country_gives_its_main_language(language_source, country, postal_code, language):
    lead = _submit(
        language_source, {"email": "a@example.org", "country": country, "postal_code": postal_code}
    )

    assert lead.language == language
    assert ("language" in _appended(lead)) is bool(language)


@pytest.fixture
def language_source(db):
    # A source without a default language, so the lead's language is empty until appended.
    return make_source("No language", country="")


def test_a_given_language_is_kept(language_source):
    lead = _submit(language_source, {"email": "a@example.org", "country": "NL", "language": "en"})

    assert lead.language == "en"
    assert "language" not in _appended(lead)


# --- Reassessment and hostile input --------------------------------------------------------------


def test_a_reassessment_keeps_the_record_of_values_appended_before(nl_source):
    lead = _submit(nl_source, {"email": "ann@example.org", "country": "NL", "postal_code": "1012"})
    first = _appended(lead)["region"]

    assessment_services.reassess_lead(lead, by=SYSTEM)

    lead.refresh_from_db()
    assert lead.region == "Noord-Holland"
    assert _appended(lead)["region"] == first


def test_hostile_values_cost_no_enrichment_errors(nl_source):
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as f:
        strings = [s for s in json.load(f) if isinstance(s, str)]

    errors = []
    for text in strings:
        lead = Lead(
            source=nl_source,
            email=f"{text[:60]}@{text[:60]}",
            phone_e164=text[:20],
            postal_code=text[:20],
            country=text[:2],
            created_at=nl_source.created_at,
            updated_at=nl_source.created_at,
        )
        ctx = assessment_services.assess(lead)
        errors += [e for e in ctx.errors if "enrich" in e["stage"]]

    assert len(strings) > 500
    assert errors == []
