"""A lead's answers: stored raw first, checked per question, then applied to the lead.

Applying fills mapped lead fields and BANT through `leads.services.update_lead`, records the
survey on the timeline and rescores through `assessment.services.log_engagement`, and runs the
survey's rules; "make sales-ready" goes through `leads.services.transition`, and distribution
routes the lead on the `lead_became_sales_ready` event by itself.

A lead answers a survey once. A second submission is kept (state "refused") and the lead is
told the survey was already answered; nothing on the lead changes.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SystemActor
from leadloop.assessment import services as assessment_services
from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import ActivityKind, Lead, LeadStatus
from leadloop.nurture import engagement
from leadloop.nurture.surveys.models import (
    Question,
    QuestionKind,
    ResponseState,
    Rule,
    RuleAction,
    Survey,
    SurveyResponse,
)
from leadloop.nurture.surveys.services.builder import BANT_TARGETS, TEXT_TARGETS
from leadloop.nurture.surveys.services.links import LinkTarget, page_language

# The lead answering their own survey. The timeline names it; it may set the fields the
# builder's allow-list maps (services.builder.TARGETS) and nothing else.
LEAD_ITSELF = SystemActor(label="lead (survey)")
TEXT_LIMIT = 2000
# The errors key of a message about the whole submission rather than one question.
FORM_ERRORS = "form"
# Dates a person may plausibly mean; outside this a typo (20266-01-01) is refused.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2200, 12, 31)
# Lead statuses a "make sales-ready" rule moves on; a lead already with sales stays where it is.
MOVABLE = frozenset({LeadStatus.NEW, LeadStatus.NURTURING})


@dataclass
class SubmitResult:
    """What became of a submission: "applied", "invalid" (errors per input) or "already"."""

    outcome: str
    response: SurveyResponse
    errors: dict[str, list[str]] = field(default_factory=dict)


def _one(value: Any) -> str:
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    return "" if value is None else str(value).strip()


def _many(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [str(item).strip() for item in items if str(item).strip()]


def check_answer(question: Question, value: Any) -> tuple[Any, str | None]:
    """The cleaned answer to `question` (None: not answered) or the message why it is not valid."""
    if question.kind == QuestionKind.MULTIPLE:
        picked = _many(value)
        keys = [c["key"] for c in question.choices]
        if any(item not in keys for item in picked):
            return None, _("Choose from the answers given.")
        cleaned: Any = [key for key in keys if key in picked] or None
    else:
        text = _one(value)
        if "\x00" in text:
            return None, _("This answer contains a character that is not allowed.")
        cleaned = text or None
        if cleaned is not None:
            cleaned, error = _check_single(question, text)
            if error:
                return None, error
    if cleaned is None and question.is_required:
        return None, _("This question is required.")
    return cleaned, None


def _check_single(question: Question, text: str) -> tuple[Any, str | None]:
    if question.kind == QuestionKind.SINGLE:
        if text not in {c["key"] for c in question.choices}:
            return None, _("Choose one of the answers given.")
        return text, None
    if question.kind == QuestionKind.TEXT:
        if len(text) > TEXT_LIMIT:
            return None, _("Keep it under %(limit)d characters.") % {"limit": TEXT_LIMIT}
        return text, None
    if question.kind == QuestionKind.NUMBER:
        try:
            number = Decimal(text.replace(" ", "").replace(",", "."))
        except InvalidOperation:
            return None, _("Enter a number.")
        if not number.is_finite() or abs(number) >= Decimal("1e12"):
            return None, _("Enter a number.")
        if question.min_value is not None and number < question.min_value:
            return None, _("Enter %(low)s or more.") % {"low": _plain(question.min_value)}
        if question.max_value is not None and number > question.max_value:
            return None, _("Enter %(high)s or less.") % {"high": _plain(question.max_value)}
        return _plain(number), None
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None, _("Enter a date as YYYY-MM-DD.")
    if not FIRST_DATE <= day <= LAST_DATE:
        return None, _("Enter a date between 1900 and 2200.")
    return day.isoformat(), None


def _plain(number: Decimal) -> str:
    text = format(number, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _display(question: Question, value: Any, language: str) -> str:
    if value is None:
        return ""
    if question.kind == QuestionKind.MULTIPLE:
        return ", ".join(question.choice_label(key, language) for key in value)
    if question.kind == QuestionKind.SINGLE:
        return question.choice_label(value, language)
    return str(value)


def _mapped_value(question: Question, value: Any) -> str | None:
    """What an answer writes into the question's lead field, if anything."""
    if value is None or not question.maps_to:
        return None
    if question.maps_to in BANT_TARGETS:
        bant = next((c.get("bant", "") for c in question.choices if c["key"] == value), "")
        return bant or None
    if question.kind == QuestionKind.SINGLE:
        return question.choice_label(value, "en")
    return str(value)


def _check_mapped(lead: Lead, questions: list[Question], cleaned: dict[int, Any]) -> dict[str, str]:
    """Per input, the errors the lead's own checks find in mapped values (a phone, say)."""
    errors: dict[str, str] = {}
    region = lead.country or lead.source.default_country
    for question in questions:
        value = _mapped_value(question, cleaned.get(question.pk))
        if value is None or question.maps_to not in TEXT_TARGETS:
            continue
        try:
            lead_services.clean_lead_input({question.maps_to: value}, default_region=region)
        except ValidationFailed as exc:
            messages = [m for ms in exc.errors.values() for m in ms] or [exc.detail]
            errors[question.field_name] = " ".join(messages)
    return errors


def receive(
    lead: Lead,
    survey: Survey,
    *,
    raw: str,
    content_type: str,
    via: str,
    language: str,
    at: dt.datetime | None = None,
) -> SurveyResponse:
    """Store a submission exactly as it came, in its own transaction, before anything is checked."""
    with transaction.atomic():
        return SurveyResponse.objects.create(
            lead=lead,
            survey=survey,
            raw=raw,
            content_type=content_type[:200],
            via=via,
            language=language,
            submitted_at=at or timezone.now(),
        )


def has_answered(lead: Lead, survey: Survey) -> bool:
    """Whether `lead` already answered `survey` (its page then says so)."""
    return SurveyResponse.objects.filter(
        lead=lead, survey=survey, state=ResponseState.APPLIED
    ).exists()


def submit(
    lead: Lead,
    survey: Survey,
    *,
    posted: Mapping[str, Any],
    raw: str,
    content_type: str,
    via: str = "page",
    language: str = "en",
    at: dt.datetime | None = None,
) -> SubmitResult:
    """Take a lead's answers: store them raw, check each question, apply them to the lead.

    Errors are keyed by the question's input name (`q<id>`). Safe against a double click: the
    second of two submissions is refused (a unique constraint decides, not a check).
    """
    response = receive(
        lead, survey, raw=raw, content_type=content_type, via=via, language=language, at=at
    )
    questions = list(survey.questions.all())
    cleaned: dict[int, Any] = {}
    errors: dict[str, list[str]] = {}
    for question in questions:
        value, error = check_answer(question, posted.get(question.field_name))
        if error:
            errors[question.field_name] = [error]
        else:
            cleaned[question.pk] = value
    for name, message in _check_mapped(lead, questions, cleaned).items():
        errors.setdefault(name, []).append(message)
    answers = [
        {
            "question_id": q.pk,
            "question": q.text_in(language),
            "question_en": q.text_en,
            "kind": q.kind,
            "maps_to": q.maps_to,
            "value": cleaned.get(q.pk),
            "answer": _display(q, cleaned.get(q.pk), language),
        }
        for q in questions
    ]
    if errors:
        SurveyResponse.objects.filter(pk=response.pk).update(
            state=ResponseState.INVALID, errors=errors, answers=answers
        )
        response.refresh_from_db()
        return SubmitResult("invalid", response, errors)
    try:
        _apply(response, lead, survey, questions, cleaned, answers)
    except LeadloopError as exc:
        # The lead refused the change (say, erased meanwhile): kept, with the reason.
        errors = {FORM_ERRORS: [exc.detail]}
        SurveyResponse.objects.filter(pk=response.pk).update(
            state=ResponseState.INVALID, errors=errors, answers=answers
        )
        response.refresh_from_db()
        return SubmitResult("invalid", response, errors)
    except IntegrityError:
        SurveyResponse.objects.filter(pk=response.pk).update(
            state=ResponseState.REFUSED, answers=answers
        )
        response.refresh_from_db()
        return SubmitResult("already", response)
    response.refresh_from_db()
    if response.state == ResponseState.REFUSED:
        return SubmitResult("already", response)
    return SubmitResult("applied", response)


@transaction.atomic
def _apply(
    response: SurveyResponse,
    lead: Lead,
    survey: Survey,
    questions: list[Question],
    cleaned: dict[int, Any],
    answers: list[dict[str, Any]],
) -> None:
    now = timezone.now()
    locked = SurveyResponse.objects.select_for_update().get(pk=response.pk)
    if has_answered(lead, survey):
        locked.state = ResponseState.REFUSED
        locked.answers = answers
        locked.save(update_fields=["state", "answers"])
        return
    locked.state = ResponseState.APPLIED
    locked.answers = answers
    locked.applied_at = now
    # Saved first: the unique constraint refuses a concurrent second submission here, before
    # anything on the lead changes.
    locked.save(update_fields=["state", "answers", "applied_at"])
    rules = [rule for rule in survey.rules.all() if _matches(rule, cleaned.get(rule.question_id))]
    changes = {
        q.maps_to: value
        for q in questions
        if (value := _mapped_value(q, cleaned.get(q.pk))) is not None
    }
    for rule in rules:
        if rule.action == RuleAction.SET_BANT:
            changes[rule.bant_field] = rule.bant_value
    if changes:
        lead = lead_services.update_lead(lead, changes, by=LEAD_ITSELF)
    summary = "; ".join(f"{a['question_en']}: {a['answer']}" for a in answers if a["answer"])
    lead = assessment_services.log_engagement(
        lead,
        kind=ActivityKind.SURVEY_ANSWERED,
        by=LEAD_ITSELF,
        message=f"{survey.name}: {summary}" if summary else survey.name,
        data={
            "survey_id": survey.pk,
            "survey": survey.name,
            "response_id": locked.pk,
            "answers": [{"question": a["question_en"], "answer": a["answer"]} for a in answers],
        },
        at=now,
    )
    engagement.engaged(lead.pk)
    for rule in rules:
        if rule.action == RuleAction.ADD_NOTE:
            lead_services.record_activity(
                lead, kind=ActivityKind.NOTE, by=LEAD_ITSELF, message=rule.note
            )
    if any(rule.action == RuleAction.SALES_READY for rule in rules):
        current = Lead.objects.only("status").get(pk=lead.pk).status
        if current in MOVABLE:
            lead_services.transition(
                lead,
                to=LeadStatus.SALES_READY,
                by=LEAD_ITSELF,
                note=_("Survey “%(survey)s”: the answer asks for sales.") % {"survey": survey.name},
            )


def _matches(rule: Rule, value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, list):
        return rule.choice in value
    return bool(rule.choice == value)


def submit_json(target: LinkTarget, *, body: bytes, content_type: str) -> SubmitResult:
    """Take answers posted as JSON ({"answers": {"q12": "quote"}}) to the API: the body is
    stored as it came, then read; a body that is not such an object is kept and refused."""
    lead, survey = target.lead, target.survey
    language = page_language(lead, survey)
    raw = body.decode("utf-8", errors="replace")
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    answers = data.get("answers") if isinstance(data, dict) else None
    if not isinstance(answers, dict):
        response = receive(
            lead, survey, raw=raw, content_type=content_type, via="api", language=language
        )
        errors = {"answers": [_('Send {"answers": {"q<id>": value}}.')]}
        SurveyResponse.objects.filter(pk=response.pk).update(
            state=ResponseState.INVALID, errors=errors
        )
        response.refresh_from_db()
        return SubmitResult("invalid", response, errors)
    return submit(
        lead,
        survey,
        posted=answers,
        raw=raw,
        content_type=content_type,
        via="api",
        language=language,
    )
