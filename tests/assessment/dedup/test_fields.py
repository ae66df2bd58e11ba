"""Field comparisons of name-and-address matching: each kind of difference lands in its level."""

from __future__ import annotations

import pytest

from leadloop.assessment.dedup.matching.fields import (
    CLOSE,
    DIFFERENT,
    EXACT,
    MISSING,
    SIMILAR,
    Keys,
    code_level,
    first_name_level,
    levels,
    street_key,
)


def _keys(**values):
    fields = dict.fromkeys(("first", "last", "house", "street", "city", "postal", "region"), "")
    return Keys(**{**fields, **values})


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("kayla", "kayla", EXACT),
        ("kayla", "kaylla", CLOSE),  # a letter doubled
        ("michael", "micheal", CLOSE),  # two letters swapped
        ("johannes", "jan", CLOSE),  # nickname
        ("j", "jan", SIMILAR),  # initial
        ("danielle", "danilele", CLOSE),
        ("connor", "olivia", DIFFERENT),
        ("", "olivia", MISSING),
    ],
)
def test_first_names_fall_in_their_level(a, b, level):
    assert first_name_level(a, b) == level


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        # Short names from the FEBRL sets: one typo takes them under Jaro-Winkler's 0.8.
        ("ned", "nde", SIMILAR),  # two neighbouring letters swapped
        ("amy", "aym", SIMILAR),
        ("ben", "bne", SIMILAR),
        ("mike", "rnike", SIMILAR),  # OCR: 'm' read as 'rn'
        ("stacy", "5tacy", SIMILAR),  # OCR: 's' read as '5'
        ("lex", "1ex", SIMILAR),  # OCR: 'l' read as '1'
        ("kim", "cim", SIMILAR),  # the same sound spelt another way
        ("kurtis", "curtis", SIMILAR),
        ("filip", "phillip", SIMILAR),
        ("mathijs", "matthys", SIMILAR),
        # A letter changed into another is a name of its own: a brother, not a typo.
        ("tim", "tom", DIFFERENT),
        ("jan", "jen", DIFFERENT),
        ("ben", "ken", DIFFERENT),
    ],
)
def test_a_slip_of_hand_or_ocr_in_a_short_first_name_is_similar(a, b, level):
    assert first_name_level(a, b) == level


def test_surnames_ignore_particles_case_and_diacritics():
    assert levels(_keys(last="Van den Berg"), _keys(last="BERG"))[1] == EXACT
    assert levels(_keys(last="de Vriés"), _keys(last="de vries"))[1] == EXACT
    assert levels(_keys(last="Morrison"), _keys(last="Morison"))[1] == CLOSE


@pytest.mark.parametrize(
    ("a", "b", "level"),
    [
        ("2193", "2193", EXACT),
        ("2193", "2139", CLOSE),  # two digits swapped
        ("2193", "2194", CLOSE),  # one digit mistyped
        ("2193", "3718", DIFFERENT),
        ("", "3718", MISSING),
    ],
)
def test_postal_codes_and_house_numbers_allow_one_edit(a, b, level):
    assert code_level(a, b) == level


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Tullaroop Street", "tullaroop st"),
        ("Tullaroop St.", "TULLAROOP STREET"),
        ("Dorpsstraat", "Dorpsstr."),
        ("Maltby Circuit", "maltby cct"),
    ],
)
def test_street_abbreviations_are_spelled_out(a, b):
    assert street_key(a) == street_key(b)
    assert levels(_keys(street=a), _keys(street=b))[3] == EXACT


def test_a_lone_name_is_compared_in_either_field():
    """'Hanegraaff' given as the first name and no surname, against 'Nynke Hanegraaff'."""
    from leadloop.assessment.dedup.matching.compare import name_and_address
    from leadloop.assessment.dedup.matching.model import DEFAULT
    from leadloop.assessment.dedup.matching.person import Person

    def person(first, last):
        return Person(
            (1, first, last, "", "", "9656GT", "37", "Colinstraat", "Ugchelen", "", None, "")
        )

    _weight, level_vector, swapped = name_and_address(
        person("Hanegraaff", ""), person("Nynke", "Hanegraaff"), DEFAULT
    )

    assert swapped
    assert level_vector[:2] == (EXACT, MISSING)


def test_swapped_first_and_last_names_agree_when_compared_swapped():
    a = _keys(first="Jan", last="de Vries")
    b = _keys(first="de Vries", last="Jan")

    assert levels(a, b)[:2] == (DIFFERENT, DIFFERENT)
    assert levels(a, b, swapped=True)[:2] == (EXACT, EXACT)


def test_a_missing_value_is_no_evidence_either_way():
    a = _keys(first="Jan", last="de Vries", postal="1234AB", city="Utrecht")
    b = _keys(first="Jan", last="de Vries", postal="", city="")

    assert levels(a, b) == (EXACT, EXACT, MISSING, MISSING, MISSING, MISSING, MISSING)
