"""The matcher: each kind of duplicate is found, look-alikes are not, merged leads are skipped."""

from __future__ import annotations

import json

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.assessment.dedup import matching as dedup
from leadloop.assessment.dedup.services import merge_leads
from leadloop.leads import services as leads_services
from leadloop.leads.models import Lead
from tests.conftest import shared_data_path
from tests.factories.leads import make_lead, make_organization, make_source


@pytest.fixture
def nl(db):
    return make_source("Web NL", country="NL")


def _stored(source, **fields):
    """A lead as the intake leaves it: created, then assessed (which sets its name key)."""
    lead = make_lead(source, **fields)
    assessment_services.reassess_lead(lead)
    return Lead.objects.get(pk=lead.pk)


def _incoming(source, **fields):
    """An unsaved lead as the intake prepares it, before assessment."""
    return leads_services.prepare_lead(fields, source=source, by=SYSTEM)


def _best(source, **fields):
    matches = dedup.find_matches(_incoming(source, **fields))
    return matches[0] if matches else None


JAN = {
    "first_name": "Jan",
    "last_name": "de Vries",
    "email": "jan.devries@gmail.com",
    "phone": "0612345678",
    "street": "Dorpsstraat",
    "house_number": "12",
    "postal_code": "1234 AB",
    "city": "Utrecht",
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email": "JAN.DEVRIES@gmail.com", "phone": ""}, "same e-mail"),
        (
            {"email": "j.a.n.devries+offers@googlemail.com", "phone": ""},
            "same e-mail (ignoring dots and +tags)",
        ),
        ({"email": "", "phone": "+31 6 12345678"}, "same phone"),
        ({"email": "", "phone": "0031612345678"}, "same phone"),
        ({"email": "", "phone": "06-12345678"}, "same phone"),
    ],
)
def test_same_contact_value_in_another_form_is_a_duplicate(nl, change, reason):
    existing = _stored(nl, **JAN)

    match = _best(nl, **{**JAN, **change})

    assert match.lead_id == existing.pk
    assert match.score >= dedup.DUPLICATE_AT
    assert reason in match.reasons


@pytest.mark.parametrize(
    ("first", "last", "note"),
    [
        ("Jan", "de Vries", ""),
        ("Jan", "de Vreis", ""),  # typo
        ("de Vries", "Jan", "names swapped"),
        ("Johannes", "de Vries", ""),  # nickname
        ("J.", "de Vries", ""),  # initial
        ("JAN", "DE VRIES", ""),  # case
        ("Ján", "de Vriés", ""),  # diacritics
    ],
)
def test_name_with_the_same_postal_code_and_house_number_is_a_duplicate(nl, first, last, note):
    existing = _stored(nl, **JAN)

    match = _best(
        nl,
        first_name=first,
        last_name=last,
        email="other.address@example.org",
        postal_code="1234AB",
        house_number="12",
    )

    assert match.lead_id == existing.pk
    assert match.score >= dedup.DUPLICATE_AT
    assert "postal code" in match.reasons[0]
    assert "house number" in match.reasons[0]
    assert note in match.reasons[0]


def test_bob_at_the_same_organisation_is_robert(nl):
    acme = make_organization("Acme")
    existing = _stored(
        nl, first_name="Robert", last_name="Smith", email="robert@acme.example",
        organization_id=acme.pk,
    )  # fmt: skip

    match = _best(
        nl, first_name="Bob", last_name="Smith", email="bob@acme.example", organization_id=acme.pk
    )

    assert match.lead_id == existing.pk
    assert match.reasons == ("name 0.97 (nickname) + same organisation",)


def test_family_member_at_the_same_address_is_not_a_duplicate(nl):
    _stored(nl, **JAN)

    match = _best(
        nl, first_name="Marieke", last_name="de Vries", email="marieke@example.org",
        postal_code="1234 AB", house_number="12",
    )  # fmt: skip

    assert match is None


def test_namesake_at_another_address_is_not_a_duplicate(nl):
    _stored(nl, **JAN)

    match = _best(
        nl, first_name="Jan", last_name="de Vries", email="jdv@example.org",
        postal_code="9999 ZZ", house_number="3", city="Groningen",
    )  # fmt: skip

    assert match is not None
    assert match.score < dedup.DUPLICATE_AT


def test_colleague_at_the_same_company_is_not_a_duplicate(nl):
    acme = make_organization("Acme")
    _stored(
        nl,
        first_name="Anna",
        last_name="Bakker",
        email="anna@acme.example",
        organization_id=acme.pk,
    )

    match = _best(
        nl,
        first_name="Piet",
        last_name="Jansen",
        email="piet@acme.example",
        organization_id=acme.pk,
    )

    assert match is None


def test_shared_mailbox_with_another_first_name_is_not_a_duplicate(nl):
    _stored(nl, first_name="Kees", last_name="Visser", email="fam.visser@ziggo.nl")

    match = _best(nl, first_name="Ans", last_name="Visser", email="fam.visser@ziggo.nl")

    assert match.reasons[0] == "same e-mail"
    assert match.score < dedup.DUPLICATE_AT


def test_same_ip_and_device_never_make_two_people_one(nl):
    first = make_lead(nl, first_name="Eva", last_name="Smit", email="eva@example.org")
    Lead.objects.filter(pk=first.pk).update(client_ip="203.0.113.7", device_fingerprint="fp-1")
    incoming = _incoming(nl, first_name="Tom", last_name="Berg", email="tom@example.org")
    incoming.client_ip, incoming.device_fingerprint = "203.0.113.7", "fp-1"

    matches = dedup.find_matches(incoming)

    assert matches == []


def test_merged_leads_and_the_lead_itself_are_never_candidates(nl):
    survivor = _stored(nl, **JAN)
    merged = _stored(nl, **{**JAN, "email": "jan@work.example"})
    merge_leads(survivor, merged, field_choices={}, by=SYSTEM)

    matches = dedup.find_matches(Lead.objects.get(pk=survivor.pk))

    assert matches == []


def test_blocks_use_the_postal_code_in_any_spelling(nl):
    existing = _stored(
        nl, first_name="Sanne", last_name="Mulder", postal_code="1234 ab", house_number="7"
    )

    match = _best(
        nl, first_name="Sanne", last_name="Mulder", postal_code="1234AB", house_number="7"
    )

    assert match.lead_id == existing.pk


def test_hostile_names_are_matched_as_plain_text(nl):
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        strings = json.load(handle)
    names = [s for s in strings if s.strip() and len(s) <= 150 and "\x00" not in s][:300]
    bobby = {"first_name": "Robert'); DROP TABLE leads_lead;--", "last_name": "%_\\"}
    stored = _stored(nl, **bobby, email="bobby@example.org")

    for name in names:
        dedup.find_matches(_incoming(nl, first_name=name, last_name=name, email="x@example.org"))

    match = _best(nl, **bobby, email="Bobby@example.org")
    assert match.lead_id == stored.pk
    assert Lead.objects.count() == 1


def test_without_e_mail_or_phone_the_address_key_finds_mistyped_names_and_postal_code(nl):
    existing = _stored(nl, **JAN)
    # Sorts between 'de fries|j' and 'de vries|j', so the name neighbours do not reach Jan.
    _stored(nl, first_name="Jan", last_name="de Jong", email="jan@dejong.example")

    match = _best(
        nl, first_name="Jan", last_name="de Fries", email="", phone="",
        street="Dorpsstr.", house_number="12", postal_code="1243 AB", city="Utrecht",
    )  # fmt: skip

    assert existing.address_key == "12|dorps"
    assert match.lead_id == existing.pk
    assert match.score >= dedup.DUPLICATE_AT
    assert match.reasons[0].startswith("name and address: ")


def test_without_e_mail_or_phone_the_street_key_finds_a_new_house_number_and_postal_code(nl):
    # Generated set: house number, postal code and the end of the surname all mistyped at once.
    existing = _stored(
        nl, first_name="Jessica", last_name="Martinez", email="", phone="",
        street="Schultz Quay", house_number="231", postal_code="3222", city="Baileybury",
    )  # fmt: skip
    # Sorts between 'martinez|j' and 'martinze|j', so the name neighbours do not reach Jessica.
    _stored(nl, first_name="Karin", last_name="Martinez", email="karin@martinez.example")
    # Same street, another surname and first name: shares no block, and is not the person.
    _stored(
        nl, first_name="Piet", last_name="Mulder", email="", phone="",
        street="Schultz Quay", house_number="7", postal_code="3222", city="Baileybury",
    )  # fmt: skip

    incoming = _incoming(
        nl, first_name="Jessica", last_name="Martinze", email="", phone="",
        street="Schultz Quay", house_number="23r", postal_code="3p22", city="Bileybury",
    )  # fmt: skip
    matches = dedup.find_matches(incoming)

    assert existing.street_name_key == "schul|m"
    assert existing.address_key == "231|schul"
    assert [m.lead_id for m in matches if m.score >= dedup.DUPLICATE_AT] == [existing.pk]


def test_the_street_key_is_asked_with_either_initial_for_swapped_names(nl):
    existing = _stored(
        nl, first_name="Kian", last_name="Plas", email="", phone="",
        street="Juliepad", house_number="135", postal_code="2350 QR", city="Loon op Zand",
    )  # fmt: skip

    # Between the incoming keys 'kian|p', 'plass|k' and the stored 'plas|k' in index order.
    _stored(nl, first_name="Anna", last_name="Mulder", email="anna@mulder.example")
    _stored(nl, first_name="Zoe", last_name="Plas", email="zoe@plas.example")

    match = _best(
        nl, first_name="Plass", last_name="Kian", email="", phone="",
        street="Juliepad", house_number="153", postal_code="2530 QR", city="Loon op Zand",
    )  # fmt: skip

    assert match is not None
    assert match.lead_id == existing.pk
    assert match.score >= dedup.DUPLICATE_AT
    assert "names swapped" in match.reasons[0]


def test_a_lead_with_a_contact_value_reads_no_street_block(nl):
    """The wide net is for leads known by name and address alone (the intake's speed)."""
    shape, _values = dedup.blocking._blocks(
        dedup.person_of(_incoming(nl, **JAN)), _incoming(nl, **JAN)
    )
    assert shape[-2:] == (0, 0)


def test_without_e_mail_or_phone_the_house_key_finds_a_lead_without_its_surname(nl):
    # Generated set: surname and street left out, postal code mistyped.
    existing = _stored(
        nl, first_name="Ashley", last_name="Mitchell", email="", phone="",
        street="Roberts Glade", house_number="60", postal_code="2606", city="St. Samantha",
        region="NT",
    )  # fmt: skip
    # Another Ashley in another house, and someone else at number 60: in no block, or not her.
    _stored(nl, first_name="Ashley", last_name="Mitchell", email="a@mitchell.example")
    _stored(
        nl, first_name="Ben", last_name="Mitchell", email="", phone="",
        house_number="60", postal_code="2606", city="St. Samantha", region="NT",
    )  # fmt: skip

    incoming = _incoming(
        nl, first_name="Ashley", last_name="", email="", phone="",
        house_number="60", postal_code="266", city="St. Samantha", region="NT",
    )  # fmt: skip
    matches = dedup.find_matches(incoming)

    assert existing.house_name_key == "60|ash"
    assert [m.lead_id for m in matches if m.score >= dedup.DUPLICATE_AT] == [existing.pk]
