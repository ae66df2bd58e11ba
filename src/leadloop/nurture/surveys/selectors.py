"""Reads for the survey pages, the API and the CLI, scoped to the viewer."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import lead_visibility
from leadloop.errors import NotFound
from leadloop.leads import selectors as lead_selectors
from leadloop.leads.models import Lead
from leadloop.nurture.surveys.models import Question, ResponseState, Rule, Survey, SurveyResponse


def _check_manager(actor: Actor) -> None:
    require(actor, Permission.MANAGE_NURTURE, _("Only marketing and admins can build surveys."))


def list_surveys(actor: Actor) -> QuerySet[Survey]:
    """Every survey with its number of questions and applied responses (marketing, admins)."""
    _check_manager(actor)
    return Survey.objects.annotate(
        question_count=Count("questions", distinct=True),
        answer_count=Count(
            "responses", filter=Q(responses__state=ResponseState.APPLIED), distinct=True
        ),
    ).order_by("name")


def get_survey_to_manage(actor: Actor, survey_id: int) -> Survey:
    """A survey to edit (marketing, admins); NotFound when there is none."""
    _check_manager(actor)
    survey = (
        Survey.objects.prefetch_related("questions", "rules__question").filter(pk=survey_id).first()
    )
    if survey is None:
        raise NotFound(_("No such survey."))
    return survey


def find_survey(actor: Actor, name_or_id: str) -> Survey:
    """An active survey by id or by name (the CLI)."""
    query = Q(name=name_or_id) | (Q(pk=int(name_or_id)) if name_or_id.isdigit() else Q(pk=None))
    survey = Survey.objects.filter(query, is_active=True).first()
    if survey is None:
        raise NotFound(_("No active survey %(name)r.") % {"name": name_or_id})
    return survey


def get_question_to_manage(actor: Actor, survey_id: int, question_id: int) -> Question:
    _check_manager(actor)
    question = (
        Question.objects.select_related("survey")
        .filter(pk=question_id, survey_id=survey_id)
        .first()
    )
    if question is None:
        raise NotFound(_("No such question."))
    return question


def get_rule_to_manage(actor: Actor, survey_id: int, rule_id: int) -> Rule:
    _check_manager(actor)
    rule = Rule.objects.filter(pk=rule_id, survey_id=survey_id).first()
    if rule is None:
        raise NotFound(_("No such rule."))
    return rule


def list_survey_responses(
    actor: Actor, survey: Survey, *, limit: int = 200
) -> list[SurveyResponse]:
    """A survey's latest responses from leads `actor` may see (the builder's results page)."""
    _check_manager(actor)
    leads = Lead.objects.filter(lead_visibility(actor)).values("pk")
    visible = SurveyResponse.objects.filter(survey=survey, lead_id__in=leads)
    return list(visible.select_related("lead").order_by("-submitted_at", "-pk")[:limit])


def list_lead_responses(actor: Actor, lead_id: int) -> list[SurveyResponse]:
    """A lead's survey responses, newest first, for someone who may see the lead (else NotFound)."""
    lead = lead_selectors.get_lead_for(actor, lead_id)
    return list(
        SurveyResponse.objects.filter(lead=lead)
        .select_related("survey")
        .order_by("-submitted_at", "-pk")
    )
