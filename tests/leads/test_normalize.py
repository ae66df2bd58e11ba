import phonenumbers
import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.leads import normalize
from leadloop.leads.normalize import InvalidValue, normalize_phone, parse_e164, phone_tokens


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("06-1234 5678", "NL"),
        ("+32 470 12 34 56", "NL"),
        ("030 123 4567", "DE"),
        ("+39 06 6982 1234", ""),  # Italian leading zero
        ("+44 20 7946 0958", "NL"),
    ],
)
def test_parse_e164_gives_what_the_parser_gives(raw, region):
    e164 = normalize_phone(raw, region=region)

    remembered = parse_e164(e164)
    normalize._NUMBERS.clear()
    read_again = parse_e164(e164)

    assert remembered == read_again == phonenumbers.parse(e164)
    assert phonenumbers.region_code_for_number(remembered) == phonenumbers.region_code_for_number(
        phonenumbers.parse(raw, region or None)
    )


def test_parse_e164_of_a_non_number_is_none():
    assert parse_e164("not a phone") is None
    assert parse_e164("") is None


def test_the_remembered_numbers_stay_bounded(monkeypatch):
    monkeypatch.setattr(normalize, "_NUMBERS_MAX", 3)
    normalize._NUMBERS.clear()
    for n in range(10):
        normalize_phone(f"06123456{n:02d}", region="NL")

    assert 1 <= len(normalize._NUMBERS) <= 3
    assert parse_e164("+31612345600") == phonenumbers.parse("+31612345600")


def test_phone_tokens_have_international_national_and_raw_digits():
    assert phone_tokens("+31612345678", "06-1234 5678") == [
        "31612345678",
        "0612345678",
        "0612345678",
    ]
    assert phone_tokens("", "+31 (0)6 1234") == ["31061234"]


def test_invalid_numbers_are_refused_with_a_reason():
    with pytest.raises(InvalidValue):
        normalize_phone("12", region="NL")
    with pytest.raises(InvalidValue):
        normalize_phone("phone me", region="NL")


def test_a_new_lead_parses_its_phone_number_once(source, monkeypatch):
    """Cleaning, the search tokens and the assessment (region, line type, country mismatch) all
    read the number; the parser runs once for them all."""
    calls = []
    real_parse = phonenumbers.parse

    def counting_parse(*args, **kwargs):
        calls.append(args[0])
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(phonenumbers, "parse", counting_parse)
    lead = assessment_services.create_lead(
        {"first_name": "Ann", "last_name": "Bakker", "phone": "06 4321 8765", "country": "NL"},
        source=source,
        by=SYSTEM,
    )

    assert lead.phone_e164 == "+31643218765"
    assert calls == ["06 4321 8765"]


@pytest.mark.parametrize(
    ("street", "last", "first", "key"),
    [
        ("Kathner Street", "Musolino", "Ben", "kathn|m"),
        ("Schultz Quay", "Martinze", "Jessica", "schul|m"),  # the surname's end mistyped
        ("Jägerstraße 4", "Öztürk", "Ayşe", "jager|o"),  # folded, digits left out
        ("Juliepad", "", "Kian", "julie|k"),  # no surname: the first name's initial
        ("St", "Smit", "Jan", None),  # too short a street to tell one from another
        ("Dorpsstraat", "", "", None),
    ],
)
def test_street_name_key_is_the_start_of_the_street_and_the_surname_initial(
    street, last, first, key
):
    assert normalize.street_name_key(street, last, first) == key


@pytest.mark.parametrize(
    ("house", "first", "last", "key"),
    [
        ("60", "Ashley", "Mitchell", "60|ash"),
        ("12-A", "Élodie", "Martin", "12a|elo"),
        ("60", "", "Mitchell", "60|mit"),  # no first name: the surname's start
        ("60", "J.", "Mitchell", None),  # an initial says too little
        ("", "Ashley", "Mitchell", None),
    ],
)
def test_house_name_key_is_the_house_number_and_the_first_name_start(house, first, last, key):
    assert normalize.house_name_key(house, first, last) == key
