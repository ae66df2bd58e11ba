"""Survey responses are personal data: in a person's export and blanked by erasure. And the
`leadloop surveys` command."""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import SurveyResponse
from leadloop.privacy.registry import SECTIONS
from tests.nurture.surveys.conftest import inputs, nurturing_lead

pytestmark = pytest.mark.django_db


def test_a_persons_export_and_erasure_include_their_survey_responses(source, survey):
    lead = nurturing_lead(source)
    surveys.submit(
        lead,
        survey,
        posted={
            inputs(survey)["Company name"]: "Acme",
            inputs(survey)["Do you have a budget?"]: "yes",
        },
        raw="company=Acme",
        content_type="",
    )
    section = SECTIONS["survey_responses"]

    exported = section.export([lead.pk])
    erased = section.erase([lead.pk], timezone.now())

    assert exported[0]["survey"] == "Interest check"
    assert {"question": "Company name", "answer": "Acme"} in exported[0]["answers"]
    assert exported[0]["as_received"] == "company=Acme"
    assert erased == 1
    stored = SurveyResponse.objects.get(lead=lead)
    assert (stored.raw, stored.answers, stored.state) == ("", [], "applied")
    assert stored.erased_at is not None


def test_the_cli_prints_a_link_that_opens_the_survey(client, source, survey, settings):
    settings.LEADLOOP_BASE_URL = "https://leads.example.com"
    lead = nurturing_lead(source)
    out = StringIO()

    call_command("surveys", "link", str(lead.pk), "Interest check", "--json", stdout=out)

    url = json.loads(out.getvalue())["url"]
    assert url.startswith("https://leads.example.com/nurture/surveys/s/")
    assert client.get(url.removeprefix("https://leads.example.com")).status_code == 200


def test_the_cli_says_when_there_is_no_such_survey(source, survey):
    lead = nurturing_lead(source)

    with pytest.raises(CommandError, match="No active survey 'Nope'"):
        call_command("surveys", "link", str(lead.pk), "Nope", stdout=StringIO())


def test_the_cli_lists_the_surveys(survey):
    out = StringIO()

    call_command("surveys", "list", stdout=out)

    assert "Interest check  (5 questions, 0 answered)" in out.getvalue()
