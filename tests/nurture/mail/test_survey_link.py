"""`{survey_url}`: a marketing mail links each lead to its own page of the template's survey."""

from __future__ import annotations

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.errors import Conflict, ValidationFailed
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import MarketingMessage
from leadloop.nurture.surveys import services as surveys

BODY = "Hello {first_name},\n\nWould you [answer three questions]({survey_url})?"


@pytest.fixture
def survey(db):
    return surveys.create_survey(by=SYSTEM, name="Brochure follow-up", title_en="Three questions")


def test_a_template_that_links_to_a_survey_must_name_an_active_one(marketing, survey):
    with pytest.raises(ValidationFailed) as refused:
        mail.create_template(by=marketing, name="Invite", language="en", subject="Hi", body=BODY)
    assert "survey_id" in refused.value.errors

    surveys.update_survey(survey, by=SYSTEM, is_active=False)
    with pytest.raises(ValidationFailed) as inactive:
        mail.create_template(
            by=marketing, name="Invite", language="en", subject="Hi", body=BODY, survey_id=survey.pk
        )
    assert inactive.value.errors["survey_id"] == ["No such active survey."]


def test_each_lead_gets_its_own_link_to_the_survey_page(inbox, marketing, survey, lead, client):
    template = mail.create_template(
        by=marketing, name="Invite", language="en", subject="Hi", body=BODY, survey_id=survey.pk
    )

    queued = mail.send_marketing_email(lead, template, by=marketing)

    [link] = MarketingMessage.objects.get(pk=queued.pk).links
    path = link.split("://", 1)[1].split("/", 1)[1]
    token = path.removeprefix("nurture/surveys/s/").rstrip("/")
    target = surveys.resolve_token(token)
    assert (target.lead.pk, target.survey.pk) == (lead.pk, survey.pk)
    assert client.get(f"/{path}").status_code == 200
    assert (
        mail.preview(
            by=marketing, subject="Hi", body=BODY, language="en", lead=lead, survey_id=survey.pk
        )
        .links[0]
        .startswith(link.split("/nurture/surveys/s/")[0])
    )


def test_a_survey_switched_off_after_saving_stops_the_mail(inbox, marketing, survey, lead):
    template = mail.create_template(
        by=marketing, name="Invite", language="en", subject="Hi", body=BODY, survey_id=survey.pk
    )
    surveys.update_survey(survey, by=SYSTEM, is_active=False)

    with pytest.raises(Conflict, match="survey that is not active"):
        mail.send_marketing_email(lead, template, by=marketing)
    assert not MarketingMessage.objects.exists()
