"""/api/v1/nurture/surveys: build surveys (marketing, admins), make a lead's link, read a lead's
responses (whoever may see the lead), and answer a survey by its token (public, no key)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.core.schemas import StrictIn as In
from leadloop.errors import NotFound, ValidationFailed
from leadloop.nurture.surveys import selectors
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import Question, Rule, Survey, SurveyResponse

router = Router()


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


class ChoiceSchema(Schema):
    key: str = Field("", max_length=60, description="Made from the English label when empty")
    en: str = Field(..., max_length=200)
    nl: str = Field("", max_length=200)
    bant: Literal["", "met", "not_met"] = ""


class QuestionOut(Schema):
    id: int
    position: int
    kind: str
    text_en: str
    text_nl: str
    is_required: bool
    choices: list[ChoiceSchema]
    maps_to: str
    min_value: Decimal | None
    max_value: Decimal | None


class QuestionIn(In):
    kind: Literal["single", "multiple", "text", "number", "date"]
    text_en: str = Field(..., max_length=300)
    text_nl: str = Field("", max_length=300)
    is_required: bool = False
    choices: list[ChoiceSchema] = []
    maps_to: str = Field("", max_length=40)
    min_value: Decimal | None = None
    max_value: Decimal | None = None


class QuestionPatch(In):
    kind: Literal["single", "multiple", "text", "number", "date"] | None = None
    text_en: str | None = Field(None, max_length=300)
    text_nl: str | None = Field(None, max_length=300)
    is_required: bool | None = None
    choices: list[ChoiceSchema] | None = None
    maps_to: str | None = Field(None, max_length=40)
    min_value: Decimal | None = None
    max_value: Decimal | None = None


class RuleOut(Schema):
    id: int
    question_id: int
    choice: str
    action: str
    bant_field: str
    bant_value: str
    note: str


class RuleIn(In):
    question_id: int
    choice: str = Field(..., max_length=60)
    action: Literal["sales_ready", "set_bant", "add_note"]
    bant_field: str = Field("", max_length=20)
    bant_value: str = Field("", max_length=8)
    note: str = Field("", max_length=500)


class SurveyOut(Schema):
    id: int
    name: str
    title_en: str
    title_nl: str
    intro_en: str
    intro_nl: str
    language: str
    is_active: bool
    questions: list[QuestionOut]
    rules: list[RuleOut]
    updated_at: dt.datetime


class SurveyIn(In):
    name: str = Field(..., max_length=120)
    title_en: str = Field(..., max_length=200)
    title_nl: str = Field("", max_length=200)
    intro_en: str = Field("", max_length=5000)
    intro_nl: str = Field("", max_length=5000)
    language: Literal["en", "nl"] = "en"
    is_active: bool = True


class SurveyPatch(In):
    name: str | None = Field(None, max_length=120)
    title_en: str | None = Field(None, max_length=200)
    title_nl: str | None = Field(None, max_length=200)
    intro_en: str | None = Field(None, max_length=5000)
    intro_nl: str | None = Field(None, max_length=5000)
    language: Literal["en", "nl"] | None = None
    is_active: bool | None = None


class LinkOut(Schema):
    url: str
    expires_in_days: int


class AnswerOut(Schema):
    question_id: int | None = None
    question: str = ""
    kind: str = ""
    value: Any = None
    answer: str = ""


class ResponseOut(Schema):
    id: int
    survey_id: int
    survey: str
    state: str
    via: str
    language: str
    submitted_at: dt.datetime
    applied_at: dt.datetime | None
    answers: list[AnswerOut]
    errors: dict[str, list[str]]


class SubmitOut(Schema):
    outcome: str
    response_id: int


def _question(q: Question) -> dict[str, Any]:
    return {
        "id": q.pk,
        "position": q.position,
        "kind": q.kind,
        "text_en": q.text_en,
        "text_nl": q.text_nl,
        "is_required": q.is_required,
        "choices": q.choices,
        "maps_to": q.maps_to,
        "min_value": q.min_value,
        "max_value": q.max_value,
    }


def _rule(r: Rule) -> dict[str, Any]:
    return {
        "id": r.pk,
        "question_id": r.question_id,
        "choice": r.choice,
        "action": r.action,
        "bant_field": r.bant_field,
        "bant_value": r.bant_value,
        "note": r.note,
    }


def _survey(s: Survey) -> dict[str, Any]:
    return {
        "id": s.pk,
        "name": s.name,
        "title_en": s.title_en,
        "title_nl": s.title_nl,
        "intro_en": s.intro_en,
        "intro_nl": s.intro_nl,
        "language": s.language,
        "is_active": s.is_active,
        "questions": [_question(q) for q in s.questions.all()],
        "rules": [_rule(r) for r in s.rules.all()],
        "updated_at": s.updated_at,
    }


def _response(r: SurveyResponse) -> dict[str, Any]:
    return {
        "id": r.pk,
        "survey_id": r.survey_id,
        "survey": r.survey.name,
        "state": r.state,
        "via": r.via,
        "language": r.language,
        "submitted_at": r.submitted_at,
        "applied_at": r.applied_at,
        "answers": r.answers or [],
        "errors": r.errors or {},
    }


def _managed(request: HttpRequest, survey_id: int) -> Survey:
    return selectors.get_survey_to_manage(_actor(request), survey_id)


@router.get("", response=list[SurveyOut], url_name="nurture-surveys")
def list_surveys(request: HttpRequest) -> list[dict[str, Any]]:
    """Every survey with its questions and rules (marketing, admins)."""
    found = selectors.list_surveys(_actor(request)).prefetch_related("questions", "rules")
    return [_survey(s) for s in found]


@router.post("", response={201: SurveyOut}, url_name="nurture-survey-add")
def create_survey(request: HttpRequest, payload: SurveyIn) -> Status:
    """Create a survey; add its questions and rules next."""
    return Status(201, _survey(surveys.create_survey(by=_actor(request), **payload.dict())))


@router.get("/{survey_id}", response=SurveyOut, url_name="nurture-survey")
def get_survey(request: HttpRequest, survey_id: int) -> dict[str, Any]:
    """One survey with its questions (in order) and rules."""
    return _survey(_managed(request, survey_id))


@router.patch("/{survey_id}", response=SurveyOut, url_name="nurture-survey-update")
def update_survey(request: HttpRequest, survey_id: int, payload: SurveyPatch) -> dict[str, Any]:
    """Change a survey's texts, language or active flag."""
    survey = _managed(request, survey_id)
    changes = payload.dict(exclude_unset=True)
    surveys.update_survey(survey, by=_actor(request), **changes)
    return _survey(_managed(request, survey_id))


@router.delete("/{survey_id}", response={204: None}, url_name="nurture-survey-delete")
def delete_survey(request: HttpRequest, survey_id: int) -> Status:
    """Delete a survey nobody answered; 409 when it has responses (switch it off instead)."""
    surveys.delete_survey(_managed(request, survey_id), by=_actor(request))
    return Status(204, None)


@router.post(
    "/{survey_id}/questions", response={201: QuestionOut}, url_name="nurture-survey-question-add"
)
def add_question(request: HttpRequest, survey_id: int, payload: QuestionIn) -> Status:
    """Add a question at the end of the survey."""
    survey = _managed(request, survey_id)
    question = surveys.add_question(survey, by=_actor(request), **payload.dict())
    return Status(201, _question(question))


@router.patch(
    "/{survey_id}/questions/{question_id}",
    response=QuestionOut,
    url_name="nurture-survey-question-update",
)
def update_question(
    request: HttpRequest, survey_id: int, question_id: int, payload: QuestionPatch
) -> dict[str, Any]:
    """Change a question; answers already given keep the text they were given to."""
    actor = _actor(request)
    question = selectors.get_question_to_manage(actor, survey_id, question_id)
    changes = payload.dict(exclude_unset=True)
    return _question(surveys.update_question(question, by=actor, **changes))


@router.delete(
    "/{survey_id}/questions/{question_id}",
    response={204: None},
    url_name="nurture-survey-question-delete",
)
def delete_question(request: HttpRequest, survey_id: int, question_id: int) -> Status:
    """Remove a question and its rules; responses keep their answers to it."""
    actor = _actor(request)
    surveys.remove_question(
        selectors.get_question_to_manage(actor, survey_id, question_id), by=actor
    )
    return Status(204, None)


@router.post("/{survey_id}/rules", response={201: RuleOut}, url_name="nurture-survey-rule-add")
def add_rule(request: HttpRequest, survey_id: int, payload: RuleIn) -> Status:
    """Add a rule on an answer of a choice question."""
    survey = _managed(request, survey_id)
    return Status(201, _rule(surveys.add_rule(survey, by=_actor(request), **payload.dict())))


@router.delete(
    "/{survey_id}/rules/{rule_id}", response={204: None}, url_name="nurture-survey-rule-delete"
)
def delete_rule(request: HttpRequest, survey_id: int, rule_id: int) -> Status:
    """Remove a rule."""
    actor = _actor(request)
    surveys.remove_rule(selectors.get_rule_to_manage(actor, survey_id, rule_id), by=actor)
    return Status(204, None)


@router.get("/leads/{lead_id}/link", response=LinkOut, url_name="nurture-survey-lead-link")
def get_lead_link(request: HttpRequest, lead_id: int, survey_id: int) -> dict[str, Any]:
    """A fresh link to `survey_id` for the lead (company staff who may see the lead)."""
    url = surveys.link_for(_actor(request), lead_id=lead_id, survey_id=survey_id)
    return {"url": url, "expires_in_days": surveys.link_lifetime().days}


@router.get(
    "/leads/{lead_id}/responses",
    response=list[ResponseOut],
    url_name="nurture-survey-lead-responses",
)
def list_lead_responses(request: HttpRequest, lead_id: int) -> list[dict[str, Any]]:
    """The lead's survey responses, newest first, also those refused or not valid."""
    return [_response(r) for r in selectors.list_lead_responses(_actor(request), lead_id)]


ANSWERS_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["answers"],
                    "properties": {
                        "answers": {
                            "type": "object",
                            "description": 'By question input name: {"q12": "quote", '
                            '"q13": ["a", "b"], "q14": "2026-03-01"}',
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/answers/{token}",
    auth=None,
    response={201: SubmitOut, 409: SubmitOut},
    url_name="nurture-survey-answer",
    openapi_extra=ANSWERS_BODY,
)
def submit_answers(request: HttpRequest, token: str) -> Status:
    """Answer a survey with the token of a lead's link (no key). The body is stored as it came
    before it is read; 422 names the inputs that are not valid, 409 says the lead already
    answered, 404 answers a token not made here or expired (and says nothing more)."""
    try:
        target = surveys.resolve_token(token)
    except (surveys.LinkInvalid, surveys.LinkExpired):
        raise NotFound("No such survey link.") from None
    result = surveys.submit_json(target, body=request.body, content_type=request.content_type or "")
    if result.outcome == "invalid":
        raise ValidationFailed("Some answers are not valid.", errors=result.errors)
    status = 409 if result.outcome == "already" else 201
    return Status(status, {"outcome": result.outcome, "response_id": result.response.pk})
