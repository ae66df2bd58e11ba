"""The synchronous answer to a post, as XML: well-formed whatever the sender's text holds."""

import json

import pytest
from defusedxml.ElementTree import fromstring
from django.test import RequestFactory

from leadloop.intake.channels.http import answer

NS = "{urn:ietf:rfc:7807}"
HOSTILE = [
    "<script>alert(1)</script>",
    "Tom & Jerry",
    "]]>",
    "\"quoted\" and 'single'",
    "bell\x07 and nul\x00 and escape\x1b",
    "lone surrogate \ud800",
    "\ufffe\uffff",
    "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'b'>]>&a;",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_a_problem_with_hostile_text_is_well_formed_xml(text):
    request = RequestFactory().post("/in/key")

    response = answer.problem(
        request, status=422, title="Lead rejected", detail=text, as_xml=True, kind="rejected",
        extra={"errors": [{"field": text, "pointer": "", "detail": text}], "submission_id": 7},
    )  # fmt: skip

    assert response["Content-Type"] == "application/problem+xml"
    root = fromstring(response.content)
    assert root.tag == f"{NS}problem"
    detail = root.find(f"{NS}detail").text
    legal = "".join(c for c in text if c in "\t\n\r" or ord(c) >= 0x20)
    legal = "".join(c for c in legal if not 0xD800 <= ord(c) <= 0xDFFF and c not in "\ufffe\uffff")
    assert detail.replace("\ufffd", "") == legal
    (error,) = root.find(f"{NS}errors")
    assert error.tag == f"{NS}error"
    assert error.find(f"{NS}field").text == detail
    assert root.find(f"{NS}submission_id").text == "7"


def test_a_result_keeps_its_element_names_and_empty_values():
    request = RequestFactory().post("/in/key")

    response = answer.respond(
        request,
        {"submission_id": 12, "lead_id": None, "disposition": "accepted"},
        status=201,
        as_xml=True,
        problem=False,
    )

    assert response.status_code == 201
    assert response["Content-Type"] == "application/xml"
    assert response.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    root = fromstring(response.content)
    assert root.tag == "result"
    assert [(child.tag, child.text) for child in root] == [
        ("submission_id", "12"),
        ("lead_id", None),
        ("disposition", "accepted"),
    ]
    assert b"<lead_id></lead_id>" in response.content


def test_json_answers_keep_the_text_as_it_is():
    request = RequestFactory().post("/in/key")

    response = answer.problem(
        request, status=400, title="t", detail=HOSTILE[4], as_xml=False, kind="quarantined"
    )

    assert json.loads(response.content)["detail"] == HOSTILE[4]
