"""Survey pages: the builder (marketing, admins) and a lead's public survey page behind a link.

The public page needs no login. A genuine but old link shows a friendly "expired" page without
anything about the lead; anything else that is not a link made here is a plain 404.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, RawPostDataException
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.permissions import Permission, can
from leadloop.errors import LeadloopError, NotFound
from leadloop.nurture.surveys import selectors
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.forms import QuestionForm, RuleForm, SurveyForm
from leadloop.nurture.surveys.models import Question, QuestionKind, Survey

# --- Builder --------------------------------------------------------------------------------------


def _manager(request: HttpRequest) -> Any:
    if not can(request.user, Permission.MANAGE_NURTURE):  # type: ignore[arg-type]
        raise PermissionDenied(_("Only marketing and admins can build surveys."))
    return request.user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _survey(request: HttpRequest, survey_id: int) -> Survey:
    try:
        return selectors.get_survey_to_manage(request.user, survey_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404 from exc


@login_required
@require_GET
def survey_list(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    return _render(
        request, "nurture/surveys/survey_list.html", {"surveys": selectors.list_surveys(actor)}
    )


@login_required
@require_http_methods(["GET", "POST"])
def survey_create(request: HttpRequest) -> HttpResponse:
    actor = _manager(request)
    form = SurveyForm(request.POST or None, initial={"language": "en", "is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            created = surveys.create_survey(by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Survey “%(name)s” created.") % {"name": created.name})
            return redirect("nurture:survey-edit", survey_id=created.pk)
    return _render(
        request,
        "nurture/surveys/survey_create.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


def _edit_context(survey: Survey, **extra: Any) -> dict[str, Any]:
    questions = list(survey.questions.all())
    return {
        "survey": survey,
        "questions": [(q, surveys.TARGETS.get(q.maps_to, "")) for q in questions],
        "rules": list(survey.rules.select_related("question")),
        "question_form": extra.pop("question_form", None) or QuestionForm(prefix="new"),
        "rule_form": extra.pop("rule_form", None) or RuleForm(prefix="rule", survey=survey),
        "has_choice_questions": any(q.has_choices for q in questions),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def survey_edit(request: HttpRequest, survey_id: int) -> HttpResponse:
    actor = _manager(request)
    survey = _survey(request, survey_id)
    form = SurveyForm(request.POST or None, initial=SurveyForm.initial_for(survey))
    if request.method == "POST" and form.is_valid():
        try:
            surveys.update_survey(survey, by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Survey saved."))
            return redirect("nurture:survey-edit", survey_id=survey.pk)
    return _render(
        request,
        "nurture/surveys/survey_edit.html",
        _edit_context(survey, form=form),
        status=422 if form.errors else 200,
    )


def _lists_answer(request: HttpRequest, survey: Survey, **extra: Any) -> HttpResponse:
    """The questions and rules fragment for HTMX, or back to the edit page without JavaScript."""
    status = extra.pop("status", 200)
    survey = Survey.objects.get(pk=survey.pk)
    if _is_htmx(request):
        return _render(
            request, "nurture/surveys/_lists.html", _edit_context(survey, **extra), status=status
        )
    if status != 200:
        form = SurveyForm(initial=SurveyForm.initial_for(survey))
        return _render(
            request,
            "nurture/surveys/survey_edit.html",
            _edit_context(survey, form=form, **extra),
            status=status,
        )
    return redirect(reverse("nurture:survey-edit", args=[survey.pk]) + "#questions")


@login_required
@require_POST
def question_add(request: HttpRequest, survey_id: int) -> HttpResponse:
    actor = _manager(request)
    survey = _survey(request, survey_id)
    form = QuestionForm(request.POST, prefix="new")
    if form.is_valid():
        try:
            surveys.add_question(survey, by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            return _lists_answer(request, survey)
    return _lists_answer(request, survey, question_form=form, status=422)


def _question(request: HttpRequest, survey_id: int, question_id: int) -> Question:
    try:
        return selectors.get_question_to_manage(request.user, survey_id, question_id)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404 from exc


@login_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, survey_id: int, question_id: int) -> HttpResponse:
    actor = _manager(request)
    question = _question(request, survey_id, question_id)
    form = QuestionForm(request.POST or None, initial=QuestionForm.initial_for(question))
    if request.method == "POST" and form.is_valid():
        try:
            surveys.update_question(question, by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect(reverse("nurture:survey-edit", args=[survey_id]) + "#questions")
    return _render(
        request,
        "nurture/surveys/question_edit.html",
        {"form": form, "question": question, "survey": question.survey},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def question_move(request: HttpRequest, survey_id: int, question_id: int) -> HttpResponse:
    actor = _manager(request)
    question = _question(request, survey_id, question_id)
    surveys.move_question(question, by=actor, up=request.POST.get("direction") == "up")
    return _lists_answer(request, question.survey)


@login_required
@require_POST
def question_remove(request: HttpRequest, survey_id: int, question_id: int) -> HttpResponse:
    actor = _manager(request)
    question = _question(request, survey_id, question_id)
    surveys.remove_question(question, by=actor)
    return _lists_answer(request, question.survey)


@login_required
@require_POST
def rule_add(request: HttpRequest, survey_id: int) -> HttpResponse:
    actor = _manager(request)
    survey = _survey(request, survey_id)
    form = RuleForm(request.POST, prefix="rule", survey=survey)
    if form.is_valid():
        try:
            surveys.add_rule(survey, by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            return _lists_answer(request, survey)
    return _lists_answer(request, survey, rule_form=form, status=422)


@login_required
@require_POST
def rule_remove(request: HttpRequest, survey_id: int, rule_id: int) -> HttpResponse:
    actor = _manager(request)
    try:
        rule = selectors.get_rule_to_manage(actor, survey_id, rule_id)
    except NotFound as exc:
        raise Http404 from exc
    surveys.remove_rule(rule, by=actor)
    return _lists_answer(request, _survey(request, survey_id))


@login_required
@require_GET
def survey_responses(request: HttpRequest, survey_id: int) -> HttpResponse:
    actor = _manager(request)
    survey = _survey(request, survey_id)
    context = {"survey": survey, "responses": selectors.list_survey_responses(actor, survey)}
    return _render(request, "nurture/surveys/responses.html", context)


@login_required
@require_GET
def survey_preview(request: HttpRequest, survey_id: int) -> HttpResponse:
    _manager(request)
    survey = _survey(request, survey_id)
    language = (
        request.GET.get("lang") if request.GET.get("lang") in ("en", "nl") else survey.language
    )
    return _page(request, survey, language=language or "en", preview=True)


# --- Public pages ---------------------------------------------------------------------------------


def _public(response: HttpResponse) -> HttpResponse:
    # A lead's own page: never cached by a proxy, never indexed.
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _questions(
    survey: Survey, language: str, values: Any, errors: dict[str, list[str]]
) -> list[dict[str, Any]]:
    rows = []
    for question in survey.questions.all():
        name = question.field_name
        if question.kind == QuestionKind.MULTIPLE:
            picked = values.getlist(name) if values is not None else []
        else:
            picked = [values.get(name, "")] if values is not None else []
        rows.append(
            {
                "question": question,
                "name": name,
                "id": f"id_{name}",
                "label": question.text_in(language),
                "value": picked[0] if picked else "",
                "choices": [
                    {
                        "key": c["key"],
                        "label": question.choice_label(c["key"], language),
                        "checked": c["key"] in picked,
                        "id": f"id_{name}_{i}",
                    }
                    for i, c in enumerate(question.choices or [])
                ],
                "errors": errors.get(name, []),
            }
        )
    return rows


def _page(
    request: HttpRequest,
    survey: Survey,
    *,
    language: str,
    preview: bool = False,
    values: Any = None,
    errors: dict[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    with translation.override(language):
        context = {
            "survey": survey,
            "language": language,
            "title": survey.title_in(language),
            "intro": survey.intro_in(language),
            "questions": _questions(survey, language, values, errors or {}),
            "errors": errors or {},
            "preview": preview,
            "action": request.path,
        }
        response = render(request, "nurture/surveys/page.html", context, status=status)
    return _public(response)


def _message(
    request: HttpRequest, template: str, language: str, *, status: int = 200, **extra: Any
) -> HttpResponse:
    with translation.override(language):
        response = render(request, template, {"language": language, **extra}, status=status)
    return _public(response)


def _target(request: HttpRequest, token: str) -> surveys.LinkTarget | HttpResponse:
    try:
        return surveys.resolve_token(token)
    except surveys.LinkExpired as expired:
        return _message(request, "nurture/surveys/expired.html", expired.language, status=410)
    except surveys.LinkInvalid:
        raise Http404 from None


def _raw_body(request: HttpRequest) -> str:
    """The post as it came. A browser's urlencoded form is kept byte for byte; a multipart one
    that the CSRF check already read as a stream is kept as its fields, re-encoded."""
    try:
        return request.body.decode("utf-8", errors="replace")
    except RawPostDataException:
        return urlencode(list(request.POST.lists()), doseq=True)


@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    target = _target(request, token)
    if isinstance(target, HttpResponse):
        return target
    lead, survey = target.lead, target.survey
    language = surveys.page_language(lead, survey)
    if request.method == "GET":
        if surveys.has_answered(lead, survey):
            return _message(request, "nurture/surveys/already.html", language, survey=survey)
        return _page(request, survey, language=language)
    raw = _raw_body(request)
    posted = {key: request.POST.getlist(key) for key in request.POST}
    with translation.override(language):
        result = surveys.submit(
            lead,
            survey,
            posted=posted,
            raw=raw,
            content_type=request.META.get("CONTENT_TYPE", ""),
            via="page",
            language=language,
        )
    if result.outcome == "invalid":
        return _page(
            request,
            survey,
            language=language,
            values=request.POST,
            errors=result.errors,
            status=422,
        )
    if result.outcome == "already":
        return _message(
            request, "nurture/surveys/already.html", language, survey=survey, status=409
        )
    response = redirect(reverse("nurture:survey-thanks", args=[token]))
    response.status_code = 303
    return response


@require_GET
def survey_thanks(request: HttpRequest, token: str) -> HttpResponse:
    target = _target(request, token)
    if isinstance(target, HttpResponse):
        return target
    language = surveys.page_language(target.lead, target.survey)
    return _message(
        request,
        "nurture/surveys/thanks.html",
        language,
        survey=target.survey,
        title=target.survey.title_in(language),
    )
