"""What a buyer receives and how its answer reads, over hostile strings (the Big List of Naughty
Strings and formula-injection payloads from ../shared/data) and hostile answers (XML bombs)."""

import csv
import io
import json
import xml.etree.ElementTree as ET
from decimal import Decimal
from types import SimpleNamespace
from urllib.parse import parse_qs

import pytest

from leadloop.distribution.selling import formats
from tests.conftest import shared_data_path


def _lead(**fields):
    base = {
        "pk": 7, "first_name": "", "last_name": "", "email": "", "phone_e164": "", "street": "",
        "house_number": "", "postal_code": "", "city": "", "region": "", "country": "NL",
        "company_name": "", "job_title": "", "language": "", "source": None, "campaign": None,
        "fit_grade": "A", "priority": 0, "created_at": None, "extra": {},
    }  # fmt: skip
    return SimpleNamespace(**{**base, **fields})


def _naughty():
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        return [s for s in json.load(handle) if isinstance(s, str)]


def test_every_naughty_string_survives_json_xml_and_name_value_pairs():
    mapping = [["Name", "first_name"], ["Plaats", "city"]]
    for text in _naughty():
        data = formats.record(_lead(first_name=text, city=text), mapping)
        assert json.loads(formats.body(data, "json")[0]) == {"Name": text, "Plaats": text}
        assert parse_qs(formats.body(data, "form")[0].decode(), keep_blank_values=True)["Name"] == [
            text
        ]
        root = ET.fromstring(formats.body(data, "xml", key="k")[0])
        kept = "".join(ch for ch in text if formats._XML_BAD.sub("", ch))
        assert (root.findtext("Name") or "") == kept


def test_formula_payloads_are_text_in_the_mailed_csv():
    with open(
        shared_data_path("hostile", "pat_csv_formula_injection_payloads.txt"), encoding="utf-8"
    ) as handle:
        payloads = [line.rstrip("\n") for line in handle if line.strip()]
    rows = [{"first_name": p} for p in payloads]
    read = list(csv.DictReader(io.StringIO(formats.as_csv(rows))))
    for payload, row in zip(payloads, read, strict=True):
        cell = row["first_name"]
        assert cell[:1] not in ("=", "+", "-", "@"), cell
        assert cell.endswith(payload.lstrip()) or cell == payload


def test_a_ping_never_carries_contact_data():
    lead = _lead(first_name="Ann", email="ann@example.nl", phone_e164="+31612345678")
    sent = formats.ping_record(lead, ["postal_code", "grade"])
    assert sent == {"postal_code": "", "grade": "A"}
    with pytest.raises(formats.FormatError):
        formats.clean_ping_fields(["email"])
    assert "email" not in formats.ping_record(lead, [])


BOMB = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<answer><status>&lol3;</status></answer>"""


def test_an_xml_bomb_answer_reads_as_no_document():
    rules = formats.clean_rules(
        [{"test": "xpath", "expr": "./status", "value": "ok", "outcome": "accepted"}]
    )
    verdict = formats.read_answer(rules, 200, BOMB)
    # The rule cannot hold on a document that was refused; the 2xx default decides.
    assert verdict.outcome == formats.ACCEPTED
    refusing = [*rules, {"test": "regex", "expr": ".", "value": "", "outcome": "rejected"}]
    assert formats.read_answer(refusing, 200, BOMB).outcome == formats.REJECTED


@pytest.mark.parametrize(
    ("rules", "status", "text", "outcome"),
    [
        ("status 409 -> duplicate", 409, "", "duplicate"),
        (
            "json result = ok -> accepted\njson result = no -> rejected",
            200,
            '{"result": "no"}',
            "rejected",
        ),
        ("xpath ./state = DUP -> duplicate", 200, "<a><state>dup</state></a>", "duplicate"),
        ("regex (?i)thank you -> accepted", 500, "Thank you!", "accepted"),
        ("", 503, "", "retry"),
        ("", 200, '{"status": "rejected", "reason": "area"}', "rejected"),
        ("", 302, "", "rejected"),
        ("", 200, "<html>ok</html>", "accepted"),
    ],
)
def test_answer_rules(rules, status, text, outcome):
    assert formats.read_answer(formats.parse_rules(rules), status, text).outcome == outcome


@pytest.mark.parametrize(
    ("text", "price"),
    [('{"price": "31.5"}', Decimal("31.50")), ('{"price": -1}', None), ('{"price": "NaN"}', None),
     ('{"price": true}', None), ("<bid>3</bid>", None), ('{"price": 1e9}', None)],
)  # fmt: skip
def test_a_bid_is_read_only_when_it_is_a_usable_price(text, price):
    assert formats.read_bid(text, "price") == price


def test_bad_mappings_and_rules_are_refused():
    for bad in ("our = nonexistent", "1bad = email", "no equals sign"):
        with pytest.raises(formats.FormatError):
            formats.parse_map(bad)
    for bad in ("json a -> maybe", "regex ( -> rejected", "status 2 -> accepted", "nope"):
        with pytest.raises(formats.FormatError):
            formats.parse_rules(bad)
