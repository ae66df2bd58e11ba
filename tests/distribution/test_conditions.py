"""Routing conditions as a marketing manager types them, and how they test a lead."""

from decimal import Decimal
from types import SimpleNamespace

import pytest

from leadloop.distribution import conditions
from leadloop.distribution.conditions import ConditionError, as_text, holds, parse_line


def lead(**values):
    base = {
        "country": "",
        "postal_code": "",
        "city": "",
        "region": "",
        "language": "",
        "source": None,
        "campaign": None,
        "fit_grade": "",
        "company_name": "",
        "job_title": "",
        "email": "",
        "phone_e164": "",
        "utm_source": "",
        "utm_medium": "",
        "utm_campaign": "",
        "priority": 0,
        "engagement_score": 0,
        "predictive_score": None,
        "fraud_score": None,
        "potential_revenue": None,
        "extra": {},
    }
    return SimpleNamespace(**{**base, **values})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("country = NL", {"field": "country", "op": "eq", "value": "NL"}),
        ("country=NL", {"field": "country", "op": "eq", "value": "NL"}),
        (
            "postal_code between 1000 and 1999",
            {"field": "postal_code", "op": "between", "value": ["1000", "1999"]},
        ),
        (
            "postal_code between 1000–1999",
            {"field": "postal_code", "op": "between", "value": ["1000", "1999"]},
        ),
        ("grade in A, B", {"field": "grade", "op": "in", "value": ["A", "B"]}),
        ("priority >= 60", {"field": "priority", "op": "gte", "value": "60"}),
        ("extra.product = heat pump", {"field": "extra.product", "op": "eq", "value": "heat pump"}),
        ("email is not empty", {"field": "email", "op": "not_empty", "value": None}),
        ("Country NOT IN de, be", {"field": "country", "op": "not_in", "value": ["de", "be"]}),
        (
            "postal_code starts with 10, 11",
            {"field": "postal_code", "op": "starts_with", "value": ["10", "11"]},
        ),
    ],
)
def test_a_typed_line_reads_as_a_condition_and_back(line, expected):
    parsed = parse_line(line)

    assert parsed == expected
    assert parse_line(as_text(parsed)) == parsed


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("contry = NL", "There is no field contry"),
        ("country ~ NL", "Write a condition as"),
        ("postal_code between 1999 and 1000", "The range 1999–1000 is empty"),
        ("postal_code between 1000", "Write a range as"),
        ("priority >= high", "high is not a number"),
        ("city >= 5", "city is text"),
        ("priority contains 5", "priority is a number"),
        ("country =", "Give a value"),
        ("country in  ", "Give at least one value"),
        ("extra.bad key! = x", "Write a condition as"),
    ],
)
def test_a_line_that_cannot_work_says_why(line, message):
    with pytest.raises(ConditionError, match=message):
        parse_line(line)


def test_parse_text_names_the_line_that_is_wrong():
    with pytest.raises(ConditionError, match="Line 3: There is no field regoin"):
        conditions.parse_text("country = NL\n\nregoin = Noord\n")


@pytest.mark.parametrize(
    ("line", "values", "expected"),
    [
        ("postal_code between 1000 and 1999", {"postal_code": "1234 AB"}, True),
        ("postal_code between 1000 and 1999", {"postal_code": "2000 AA"}, False),
        ("postal_code between 1000 and 1999", {"postal_code": ""}, False),
        ("postal_code between 1000 and 1999", {"postal_code": "SW1A 1AA"}, False),
        ("country = nl", {"country": "NL"}, True),
        ("country in DE, BE", {"country": "NL"}, False),
        ("country not in DE, BE", {"country": "NL"}, True),
        ("country != NL", {"country": ""}, True),
        ("grade in A, B", {"fit_grade": "b"}, True),
        ("priority >= 60", {"priority": 60}, True),
        ("priority > 60", {"priority": 60}, False),
        ("potential_revenue between 1000 and 5000", {"potential_revenue": Decimal("2500")}, True),
        ("potential_revenue >= 1", {"potential_revenue": None}, False),
        ("predictive_score < 0.5", {"predictive_score": 0.2}, True),
        ("extra.product = Heat Pump", {"extra": {"product": "heat pump"}}, True),
        ("extra.product = heat pump", {"extra": {}}, False),
        ("extra.product is empty", {"extra": {}}, True),
        ("email_domain = example.com", {"email": "ann@Example.com"}, True),
        ("company contains bakker", {"company_name": "Bakkerij De Vries"}, True),
        ("postal_code starts with 10", {"postal_code": "1012 AB"}, True),
        ("source = website", {"source": SimpleNamespace(name="Website")}, True),
        ("campaign is empty", {"campaign": None}, True),
    ],
)
def test_a_condition_tests_the_lead(line, values, expected):
    assert holds(parse_line(line), lead(**values)) is expected


def test_hostile_text_is_only_ever_compared():
    condition = parse_line("city = <script>alert(1)</script>' OR 1=1 --")

    assert condition["value"] == "<script>alert(1)</script>' OR 1=1 --"
    assert holds(condition, lead(city="<script>alert(1)</script>' OR 1=1 --"))
    assert not holds(condition, lead(city="Utrecht"))
