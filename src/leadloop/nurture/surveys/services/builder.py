"""Building a survey: its texts, questions, choices and rules (marketing, admins)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import Conflict, ValidationFailed
from leadloop.leads.models import BantAnswer
from leadloop.nurture.surveys.models import (
    LANGUAGES,
    Question,
    QuestionKind,
    Rule,
    RuleAction,
    Survey,
)

# The lead fields a survey answer may fill: contact and company details a lead may state about
# themselves, and BANT. Never ownership, status, scores, consent or origin.
TEXT_TARGETS = {
    "company_name": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "phone": gettext_lazy("Phone"),
    "city": gettext_lazy("City"),
}
BANT_TARGETS = {
    "bant_budget": gettext_lazy("BANT: budget"),
    "bant_authority": gettext_lazy("BANT: authority"),
    "bant_need": gettext_lazy("BANT: need"),
    "bant_timeframe": gettext_lazy("BANT: timeframe"),
}
TARGETS = {**TEXT_TARGETS, **BANT_TARGETS}
BANT_VALUES = [value for value in BantAnswer.values if value]
SURVEY_TEXTS = {"title_en": 200, "title_nl": 200, "intro_en": 5000, "intro_nl": 5000}


def _check_manager(by: Actor) -> None:
    require(by, Permission.MANAGE_NURTURE, _("Only marketing and admins can build surveys."))


def _text(value: Any, *, limit: int) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise ValidationFailed(_("Text may not contain NUL characters."))
    return text[:limit]


# --- Surveys --------------------------------------------------------------------------------------


def _survey_values(data: Mapping[str, Any], *, current: Survey | None) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if "name" in data or current is None:
        values["name"] = _text(data.get("name"), limit=120)
        if not values["name"]:
            errors["name"] = [_("Give the survey a name.")]
    for name, limit in SURVEY_TEXTS.items():
        if name in data or current is None:
            values[name] = _text(data.get(name), limit=limit)
    if "title_en" in values and not values["title_en"]:
        errors["title_en"] = [_("The English title is required.")]
    if "language" in data or current is None:
        values["language"] = str(data.get("language") or "en")
        if values["language"] not in LANGUAGES:
            errors["language"] = [_("Choose English or Dutch.")]
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    if errors:
        raise ValidationFailed(_("The survey is not complete."), errors=errors)
    return values


def _save_survey(survey: Survey) -> Survey:
    try:
        with transaction.atomic():
            survey.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            _("Another survey has this name."),
            errors={"name": [_("Another survey has this name.")]},
        ) from exc
    return survey


def create_survey(*, by: Actor, **data: Any) -> Survey:
    """A new survey (marketing, admins); names are unique."""
    _check_manager(by)
    return _save_survey(Survey(**_survey_values(data, current=None)))


def update_survey(survey: Survey, *, by: Actor, **data: Any) -> Survey:
    """Change a survey's texts, language or active flag; answers already given keep theirs."""
    _check_manager(by)
    for name, value in _survey_values(data, current=survey).items():
        setattr(survey, name, value)
    return _save_survey(survey)


# --- Questions ------------------------------------------------------------------------------------


def parse_choices(lines: str) -> list[dict[str, str]]:
    """Choices typed one per line as "English | Dutch | BANT" (the last two optional)."""
    choices = []
    for line in lines.splitlines():
        if not line.strip():
            continue
        parts = [part.strip() for part in line.split("|")] + ["", ""]
        choices.append({"en": parts[0], "nl": parts[1], "bant": parts[2].lower()})
    return choices


def format_choices(choices: Sequence[Mapping[str, str]]) -> str:
    """The choices as the builder's text box shows them (parse_choices' inverse)."""
    lines = []
    for choice in choices:
        parts = [choice.get("en", ""), choice.get("nl", ""), choice.get("bant", "")]
        while len(parts) > 1 and not parts[-1]:
            parts.pop()
        lines.append(" | ".join(parts))
    return "\n".join(lines)


def _clean_choices(raw: Any, errors: dict[str, list[str]]) -> list[dict[str, str]]:
    if isinstance(raw, str):
        raw = parse_choices(raw)
    if not isinstance(raw, list):
        errors["choices"] = [_("Give the choices as a list.")]
        return []
    choices: list[dict[str, str]] = []
    keys: set[str] = set()
    for item in raw:
        if not isinstance(item, Mapping):
            errors["choices"] = [_("Each choice needs an English label.")]
            return []
        label = _text(item.get("en"), limit=200)
        if not label:
            errors["choices"] = [_("Each choice needs an English label.")]
            return []
        key = _text(item.get("key"), limit=60) or slugify(label)[:60] or f"c{len(choices) + 1}"
        if key in keys:
            errors["choices"] = [
                _("Two choices have the same label “%(label)s”.") % {"label": label}
            ]
            return []
        bant = _text(item.get("bant"), limit=8).lower().replace(" ", "_")
        if bant and bant not in BANT_VALUES:
            errors["choices"] = [
                _("BANT value “%(value)s” is not one of: %(values)s.")
                % {"value": bant, "values": ", ".join(BANT_VALUES)}
            ]
            return []
        keys.add(key)
        choices.append(
            {"key": key, "en": label, "nl": _text(item.get("nl"), limit=200), "bant": bant}
        )
    return choices


def _decimal(value: Any, name: str, errors: dict[str, list[str]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except ArithmeticError:
        errors[name] = [_("Enter a number.")]
        return None
    if not number.is_finite() or abs(number) >= Decimal("1e12"):
        errors[name] = [_("Enter a number.")]
        return None
    return number


def _question_values(data: Mapping[str, Any], *, current: Question | None) -> dict[str, Any]:
    merged = {
        "kind": current.kind if current else "",
        "text_en": current.text_en if current else "",
        "text_nl": current.text_nl if current else "",
        "is_required": current.is_required if current else False,
        "choices": current.choices if current else [],
        "maps_to": current.maps_to if current else "",
        "min_value": current.min_value if current else None,
        "max_value": current.max_value if current else None,
        **data,
    }
    errors: dict[str, list[str]] = {}
    kind = str(merged["kind"] or "")
    if kind not in QuestionKind.values:
        errors["kind"] = [_("Choose a kind of question.")]
    values: dict[str, Any] = {
        "kind": kind,
        "text_en": _text(merged["text_en"], limit=300),
        "text_nl": _text(merged["text_nl"], limit=300),
        "is_required": bool(merged["is_required"]),
        "maps_to": str(merged["maps_to"] or ""),
    }
    if not values["text_en"]:
        errors["text_en"] = [_("The English question is required.")]
    has_choices = kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)
    values["choices"] = _clean_choices(merged["choices"], errors) if has_choices else []
    if has_choices and not values["choices"] and "choices" not in errors:
        errors["choices"] = [_("A choice question needs at least one choice.")]
    numeric = kind == QuestionKind.NUMBER
    values["min_value"] = _decimal(merged["min_value"], "min_value", errors) if numeric else None
    values["max_value"] = _decimal(merged["max_value"], "max_value", errors) if numeric else None
    low, high = values["min_value"], values["max_value"]
    if low is not None and high is not None and low > high:
        errors["max_value"] = [_("The highest number is below the lowest.")]
    target = values["maps_to"]
    if target and target not in TARGETS:
        errors["maps_to"] = [_("This lead field cannot be filled by a survey.")]
    elif target in BANT_TARGETS and kind != QuestionKind.SINGLE:
        errors["maps_to"] = [_("Only a single-choice question can answer a BANT field.")]
    elif target in BANT_TARGETS and not any(c["bant"] for c in values["choices"]):
        errors["choices"] = [_("Give at least one choice a BANT value (met or not_met).")]
    elif target in TEXT_TARGETS and kind == QuestionKind.MULTIPLE:
        errors["maps_to"] = [_("A multiple-choice question cannot fill a lead field.")]
    if errors:
        raise ValidationFailed(_("The question is not complete."), errors=errors)
    return values


@transaction.atomic
def add_question(survey: Survey, *, by: Actor, **data: Any) -> Question:
    """Add a question at the end of the survey."""
    _check_manager(by)
    values = _question_values(data, current=None)
    last = survey.questions.aggregate(last=Max("position"))["last"]
    question = Question(survey=survey, position=(last or 0) + 1, **values)
    question.save()
    return question


@transaction.atomic
def update_question(question: Question, *, by: Actor, **data: Any) -> Question:
    """Change a question. A choice a rule names must stay (rename it, and the rule goes with the
    old key: remove the rule first). Answers already given keep the text they were given to."""
    _check_manager(by)
    values = _question_values(data, current=question)
    keys = {choice["key"] for choice in values["choices"]}
    used = sorted(set(question.rules.values_list("choice", flat=True)) - keys)
    if used:
        raise ValidationFailed(
            _("A rule uses the answer “%(choice)s”; remove the rule first.")
            % {"choice": ", ".join(used)},
            errors={"choices": [_("A rule uses the answer “%(choice)s”.") % {"choice": used[0]}]},
        )
    for name, value in values.items():
        setattr(question, name, value)
    question.save()
    return question


@transaction.atomic
def move_question(question: Question, *, by: Actor, up: bool) -> Question:
    """Swap a question with its neighbour above or below."""
    _check_manager(by)
    questions = list(question.survey.questions.select_for_update().order_by("position", "pk"))
    index = next(i for i, q in enumerate(questions) if q.pk == question.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(questions):
        questions[index], questions[other] = questions[other], questions[index]
    for position, item in enumerate(questions, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    return question


@transaction.atomic
def remove_question(question: Question, *, by: Actor) -> None:
    """Remove a question and its rules; responses keep the answers given to it."""
    _check_manager(by)
    question.delete()


# --- Rules ----------------------------------------------------------------------------------------


@transaction.atomic
def add_rule(
    survey: Survey,
    *,
    by: Actor,
    question_id: int,
    choice: str,
    action: str,
    bant_field: str = "",
    bant_value: str = "",
    note: str = "",
) -> Rule:
    """Add a rule: when the answer to a choice question is (or contains) `choice`, do `action`."""
    _check_manager(by)
    errors: dict[str, list[str]] = {}
    question = survey.questions.filter(pk=question_id).first()
    if question is None or not question.has_choices:
        errors["question_id"] = [_("Choose a choice question of this survey.")]
    elif choice not in {c["key"] for c in question.choices}:
        errors["choice"] = [_("Choose one of the question's answers.")]
    if action not in RuleAction.values:
        errors["action"] = [_("Choose what the rule does.")]
    if action == RuleAction.SET_BANT:
        if bant_field not in BANT_TARGETS:
            errors["bant_field"] = [_("Choose a BANT field.")]
        if bant_value not in BANT_VALUES:
            errors["bant_value"] = [_("Choose met or not met.")]
    else:
        bant_field = bant_value = ""
    note = _text(note, limit=500) if action == RuleAction.ADD_NOTE else ""
    if action == RuleAction.ADD_NOTE and not note:
        errors["note"] = [_("Write the note.")]
    if errors:
        raise ValidationFailed(_("The rule is not complete."), errors=errors)
    assert question is not None
    return Rule.objects.create(
        survey=survey,
        question=question,
        choice=choice,
        action=action,
        bant_field=bant_field,
        bant_value=bant_value,
        note=note,
    )


def remove_rule(rule: Rule, *, by: Actor) -> None:
    """Remove a rule; what it did to leads already stays on their timelines."""
    _check_manager(by)
    rule.delete()


def delete_survey(survey: Survey, *, by: Actor) -> None:
    """Delete a survey nobody answered yet; one with responses can only be switched off."""
    _check_manager(by)
    if survey.responses.exists():
        raise Conflict(_("This survey has responses: switch it off instead."))
    survey.delete()
