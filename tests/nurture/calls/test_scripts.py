"""Scripts and notes with hostile text: stored as written, shown as text (never markup)."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
import time_machine

from leadloop.errors import ValidationFailed
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallAttempt
from leadloop.nurture.calls.services import scripts
from tests.conftest import shared_data_path
from tests.nurture.calls.conftest import TUESDAY_10

pytestmark = pytest.mark.django_db


def _naughty() -> list[str]:
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        return [
            s for s in json.load(handle) if ("<" in s or "&" in s or '"' in s) and "\x00" not in s
        ]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)


def _tags(html: str) -> list[str]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_a_hostile_lead_name_in_the_script_stays_text(call_list, make_callable, agent):
    lead = make_callable(first_name="Ann")
    expected = _tags(scripts.render_script(call_list, lead, agent=agent))

    for text in _naughty()[:200]:
        lead.first_name = text[:100]
        lead.company_name = text[:200]
        assert _tags(scripts.render_script(call_list, lead, agent=agent)) == expected, text


def test_raw_html_in_a_script_is_shown_as_text(marketing):
    call_list = calls.create_call_list(
        by=marketing, name="X", script_en="<script>alert(1)</script> [x](javascript:alert(1))"
    )

    html = scripts.render_script(call_list, call_list_lead(), agent=marketing)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert 'href="javascript' not in html


def call_list_lead():
    from leadloop.leads.models import Lead

    return Lead(first_name="Ann", last_name="Smit", company_name="Smit BV")


def test_hostile_notes_are_stored_as_written_and_shown_escaped(
    agent, queued, marketing, logged_in_client
):
    naughty = _naughty()
    note = " ".join(naughty[:20])[:4000]
    entry = queued()
    with time_machine.travel(TUESDAY_10, tick=False):
        calls.log_outcome(calls.next_for(agent), by=agent, outcome="no_answer", notes=note)
    with time_machine.travel(TUESDAY_10.replace(hour=14), tick=False):
        client = logged_in_client(agent)
        client.post("/nurture/calls/desk/next/")
        page = client.get("/nurture/calls/desk/").content.decode()

    stored = CallAttempt.objects.get().notes
    assert stored.startswith(naughty[0][:10].strip()[:5])
    assert "<script>alert(0)</script>" not in page
    assert entry.lead.full_name in page
    assert "&lt;script&gt;" in page


def test_an_unknown_merge_field_in_a_script_is_refused(marketing):
    with pytest.raises(ValidationFailed) as refused:
        calls.create_call_list(by=marketing, name="X", script_nl="Hoi {voornaam}")

    assert "{voornaam}" in refused.value.errors["script_nl"][0]
