"""/api/v1/nurture/surveys: the builder for marketing, links and responses scoped to the lead's
viewers, and answering by token without a key."""

import json

import pytest

from leadloop.leads.models import Lead
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import ResponseState, Survey, SurveyResponse
from tests.factories.leads import make_lead
from tests.nurture.surveys.conftest import inputs, nurturing_lead

pytestmark = pytest.mark.django_db

BASE = "/api/v1/nurture/surveys"


def test_marketing_builds_a_survey_with_questions_and_a_rule(api_client_for, marketing):
    api = api_client_for(marketing)

    created = api.post(
        BASE, {"name": "Fit", "title_en": "Fit?", "title_nl": "Past het?"}, "application/json"
    )
    survey_id = created.json()["id"]
    question = api.post(
        f"{BASE}/{survey_id}/questions",
        {
            "kind": "single",
            "text_en": "Quote?",
            "choices": [{"en": "Yes", "nl": "Ja"}, {"en": "No", "nl": "Nee"}],
        },
        "application/json",
    )
    rule = api.post(
        f"{BASE}/{survey_id}/rules",
        {"question_id": question.json()["id"], "choice": "yes", "action": "sales_ready"},
        "application/json",
    )
    shown = api.get(f"{BASE}/{survey_id}")

    assert (created.status_code, question.status_code, rule.status_code) == (201, 201, 201)
    body = shown.json()
    assert body["title_nl"] == "Past het?"
    assert [c["key"] for c in body["questions"][0]["choices"]] == ["yes", "no"]
    assert body["rules"][0]["action"] == "sales_ready"


def test_a_bad_question_is_a_problem_document_naming_the_field(api_client_for, marketing, survey):
    answer = api_client_for(marketing).post(
        f"{BASE}/{survey.pk}/questions",
        {"kind": "single", "text_en": "Pick", "choices": []},
        "application/json",
    )

    assert answer.status_code == 422
    assert answer["Content-Type"].startswith("application/problem+json")
    assert [e["field"] for e in answer.json()["errors"]] == ["choices"]


def test_a_rep_cannot_build_surveys_through_the_api(api_client_for, rep, survey):
    api = api_client_for(rep)

    listed = api.get(BASE)
    created = api.post(BASE, {"name": "X", "title_en": "X"}, "application/json")
    changed = api.patch(f"{BASE}/{survey.pk}", {"name": "Hacked"}, "application/json")

    assert (listed.status_code, created.status_code, changed.status_code) == (403, 403, 403)
    assert list(Survey.objects.values_list("name", flat=True)) == ["Interest check"]


def test_a_survey_with_responses_is_switched_off_not_deleted(
    api_client_for, marketing, source, survey
):
    lead = nurturing_lead(source)
    surveys.submit(lead, survey, posted={}, raw="", content_type="")
    api = api_client_for(marketing)

    deleted = api.delete(f"{BASE}/{survey.pk}")
    off = api.patch(f"{BASE}/{survey.pk}", {"is_active": False}, "application/json")

    assert deleted.status_code == 409
    assert off.json()["is_active"] is False


def test_staff_who_see_the_lead_get_a_working_link(
    api_client_for, client, rep, team, source, survey, settings
):
    settings.LEADLOOP_BASE_URL = "https://leads.example.com"
    lead = make_lead(source, team=team, assigned_to=rep)

    answer = api_client_for(rep).get(f"{BASE}/leads/{lead.pk}/link?survey_id={survey.pk}")

    url = answer.json()["url"]
    assert answer.status_code == 200
    assert url.startswith("https://leads.example.com/nurture/surveys/s/")
    assert answer.json()["expires_in_days"] == 30
    assert client.get(url.removeprefix("https://leads.example.com")).status_code == 200


def test_a_rep_gets_no_link_and_no_responses_for_a_lead_they_cannot_see(
    api_client_for, other_rep, source, survey
):
    lead = nurturing_lead(source)
    surveys.submit(
        lead, survey, posted={inputs(survey)["Company name"]: "Secret"}, raw="", content_type=""
    )
    api = api_client_for(other_rep)

    link = api.get(f"{BASE}/leads/{lead.pk}/link?survey_id={survey.pk}")
    responses = api.get(f"{BASE}/leads/{lead.pk}/responses")

    assert (link.status_code, responses.status_code) == (404, 404)
    assert "Secret" not in responses.text


def test_a_partner_user_gets_no_link_even_for_their_own_lead(
    api_client_for, partner_user, partner_org, source, survey
):
    lead = make_lead(source, partner=partner_org)

    answer = api_client_for(partner_user).get(f"{BASE}/leads/{lead.pk}/link?survey_id={survey.pk}")

    assert answer.status_code == 403


def test_staff_read_a_leads_responses_newest_first(api_client_for, admin, source, survey):
    lead = nurturing_lead(source)
    names = inputs(survey)
    surveys.submit(lead, survey, posted={names["Employees"]: "x"}, raw="a", content_type="")
    surveys.submit(
        lead, survey, posted={names["Do you have a budget?"]: "yes"}, raw="b", content_type=""
    )

    answer = api_client_for(admin).get(f"{BASE}/leads/{lead.pk}/responses")

    rows = answer.json()
    assert [r["state"] for r in rows] == [ResponseState.APPLIED, ResponseState.INVALID]
    assert rows[1]["errors"] == {
        names["Do you have a budget?"]: ["This question is required."],
        names["Employees"]: ["Enter a number."],
    }


def test_answers_by_token_need_no_key_and_are_applied(client, source, survey):
    lead = nurturing_lead(source)
    token = surveys.make_token(lead, survey)
    names = inputs(survey)
    body = {"answers": {names["Do you have a budget?"]: "yes", names["What would you like?"]: []}}

    answer = client.post(f"{BASE}/answers/{token}", body, "application/json")

    assert answer.status_code == 201
    assert answer.json()["outcome"] == "applied"
    assert Lead.objects.get(pk=lead.pk).bant_budget == "met"
    stored = SurveyResponse.objects.get(lead=lead)
    assert (stored.via, json.loads(stored.raw)) == ("api", body)


def test_bad_answers_by_token_are_a_problem_document_and_kept_raw(client, source, survey):
    lead = nurturing_lead(source)
    token = surveys.make_token(lead, survey)

    invalid = client.post(f"{BASE}/answers/{token}", {"answers": {"q0": "x"}}, "application/json")
    broken = client.post(f"{BASE}/answers/{token}", "{not json", "application/json")

    assert (invalid.status_code, broken.status_code) == (422, 422)
    assert [e["field"] for e in invalid.json()["errors"]] == [
        inputs(survey)["Do you have a budget?"]
    ]
    assert [e["field"] for e in broken.json()["errors"]] == ["answers"]
    assert list(SurveyResponse.objects.order_by("pk").values_list("raw", "state")) == [
        ('{"answers": {"q0": "x"}}', ResponseState.INVALID),
        ("{not json", ResponseState.INVALID),
    ]


def test_a_tampered_token_is_refused_with_nothing_about_the_lead(client, source, survey):
    lead = nurturing_lead(source, first_name="Zelda")
    token = surveys.make_token(lead, survey)

    answer = client.post(f"{BASE}/answers/{token}x", {"answers": {}}, "application/json")

    assert answer.status_code == 404
    assert "Zelda" not in answer.text
    assert "Interest check" not in answer.text
    assert not SurveyResponse.objects.exists()


def test_answering_twice_by_token_is_a_conflict(client, source, survey):
    lead = nurturing_lead(source)
    token = surveys.make_token(lead, survey)
    body = {"answers": {inputs(survey)["Do you have a budget?"]: "no"}}
    client.post(f"{BASE}/answers/{token}", body, "application/json")

    again = client.post(f"{BASE}/answers/{token}", body, "application/json")

    assert again.status_code == 409
    assert again.json()["outcome"] == "already"
