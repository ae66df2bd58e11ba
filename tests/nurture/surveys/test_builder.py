"""The survey builder: marketing and admins build surveys in the UI; reps cannot."""

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import Question, Rule, Survey

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_marketing_creates_a_survey_and_lands_on_its_builder(logged_in_client, marketing):
    client = logged_in_client(marketing)

    answer = client.post(
        "/nurture/surveys/new/",
        {"name": "Fit", "title_en": "A few questions", "language": "en", "is_active": "on"},
    )

    survey = Survey.objects.get()
    assert answer.status_code == 302
    assert answer["Location"] == f"/nurture/surveys/{survey.pk}/"
    assert (survey.name, survey.title_en, survey.is_active) == ("Fit", "A few questions", True)
    page = client.get(answer["Location"])
    assert page.status_code == 200
    assert "Add a question" in page.text


def test_a_survey_without_an_english_title_is_shown_again_with_the_error(
    logged_in_client, marketing
):
    answer = logged_in_client(marketing).post(
        "/nurture/surveys/new/", {"name": "Fit", "title_en": "", "language": "en"}
    )

    assert answer.status_code == 422
    assert not Survey.objects.exists()


@pytest.mark.parametrize(
    "path",
    ["/nurture/surveys/", "/nurture/surveys/new/", "/nurture/surveys/{id}/"],
)
def test_a_rep_cannot_open_the_builder(logged_in_client, rep, survey, path):
    answer = logged_in_client(rep).get(path.format(id=survey.pk))

    assert answer.status_code == 403


def test_a_rep_cannot_add_a_question(logged_in_client, rep, survey):
    before = Question.objects.count()

    answer = logged_in_client(rep).post(
        f"/nurture/surveys/{survey.pk}/questions/",
        {"new-text_en": "Sneaky", "new-kind": "text"},
        headers=HTMX,
    )

    assert answer.status_code == 403
    assert Question.objects.count() == before


def test_adding_a_question_with_htmx_answers_the_lists_fragment(
    logged_in_client, marketing, survey
):
    answer = logged_in_client(marketing).post(
        f"/nurture/surveys/{survey.pk}/questions/",
        {
            "new-text_en": "How many sites?",
            "new-text_nl": "Hoeveel vestigingen?",
            "new-kind": "number",
            "new-min_value": "1",
            "new-is_required": "on",
        },
        headers=HTMX,
    )

    assert answer.status_code == 200
    assert "<html" not in answer.text
    assert "How many sites?" in answer.text
    added = survey.questions.get(text_en="How many sites?")
    assert (added.kind, added.is_required, added.position) == ("number", True, 6)


def test_a_choice_question_without_choices_is_refused_in_the_fragment(
    logged_in_client, marketing, survey
):
    before = survey.questions.count()

    answer = logged_in_client(marketing).post(
        f"/nurture/surveys/{survey.pk}/questions/",
        {"new-text_en": "Pick one", "new-kind": "single", "new-choices": ""},
        headers=HTMX,
    )

    assert answer.status_code == 422
    assert "A choice question needs at least one choice." in answer.text
    assert survey.questions.count() == before


def test_questions_move_up_and_are_removed(logged_in_client, marketing, survey):
    client = logged_in_client(marketing)
    second = survey.questions.get(text_en="Do you have a budget?")

    client.post(
        f"/nurture/surveys/{survey.pk}/questions/{second.pk}/move/",
        {"direction": "up"},
        headers=HTMX,
    )
    client.post(f"/nurture/surveys/{survey.pk}/questions/{second.pk}/remove/", headers=HTMX)

    assert list(survey.questions.values_list("text_en", flat=True)) == [
        "Company name",
        "What would you like?",
        "Employees",
        "Start date",
    ]


def test_editing_a_question_changes_its_choices(logged_in_client, marketing, survey):
    question = survey.questions.get(text_en="Do you have a budget?")

    answer = logged_in_client(marketing).post(
        f"/nurture/surveys/{survey.pk}/questions/{question.pk}/",
        {
            "text_en": "Is there a budget?",
            "kind": "single",
            "maps_to": "bant_budget",
            "choices": "Yes | Ja | met\nNo | Nee | not_met\nNot sure | Weet niet",
        },
    )

    question.refresh_from_db()
    assert answer.status_code == 302
    assert question.text_en == "Is there a budget?"
    assert question.choices[2] == {
        "key": "not-sure",
        "en": "Not sure",
        "nl": "Weet niet",
        "bant": "",
    }


def test_marketing_adds_and_removes_a_rule(logged_in_client, marketing, survey):
    client = logged_in_client(marketing)
    budget = survey.questions.get(text_en="Do you have a budget?")

    client.post(
        f"/nurture/surveys/{survey.pk}/rules/",
        {"rule-answer": f"{budget.pk}:yes", "rule-action": "add_note", "rule-note": "Budget!"},
        headers=HTMX,
    )
    rule = Rule.objects.get(question=budget)
    answer = client.post(f"/nurture/surveys/{survey.pk}/rules/{rule.pk}/remove/", headers=HTMX)

    assert (rule.choice, rule.action, rule.note) == ("yes", "add_note", "Budget!")
    assert answer.status_code == 200
    assert not Rule.objects.filter(question=budget).exists()


def test_the_preview_shows_the_page_in_dutch_with_sending_off(logged_in_client, marketing, survey):
    page = logged_in_client(marketing).get(f"/nurture/surveys/{survey.pk}/preview/?lang=nl")

    assert page.status_code == 200
    assert "Hoe kunnen we helpen?" in page.text
    assert "disabled" in page.text


def test_services_refuse_a_rep(rep, survey):
    with pytest.raises(NotAllowed):
        surveys.create_survey(by=rep, name="X", title_en="X")
    with pytest.raises(NotAllowed):
        surveys.add_question(survey, by=rep, kind="text", text_en="X")

    assert Survey.objects.count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"kind": "text", "text_en": "Q", "maps_to": "status"}, "maps_to"),
        ({"kind": "text", "text_en": "Q", "maps_to": "bant_need"}, "maps_to"),
        ({"kind": "single", "text_en": "Q", "maps_to": "bant_need", "choices": "Yes"}, "choices"),
        ({"kind": "single", "text_en": "Q", "choices": "Yes | Ja | maybe"}, "choices"),
        ({"kind": "single", "text_en": "Q", "choices": "Yes\nyes"}, "choices"),
        ({"kind": "multiple", "text_en": "Q", "maps_to": "city", "choices": "A"}, "maps_to"),
        ({"kind": "number", "text_en": "Q", "min_value": 5, "max_value": 1}, "max_value"),
        ({"kind": "essay", "text_en": "Q"}, "kind"),
        ({"kind": "text", "text_en": ""}, "text_en"),
    ],
)
def test_a_question_that_cannot_work_is_refused(survey, data, field):
    with pytest.raises(ValidationFailed) as refused:
        surveys.add_question(survey, by=SYSTEM, **data)

    assert field in refused.value.errors


def test_surveys_are_in_the_menu_for_marketing(logged_in_client, marketing):
    page = logged_in_client(marketing).get("/nurture/surveys/")

    assert 'href="/nurture/surveys/"' in page.text
