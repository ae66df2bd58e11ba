"""A survey like marketing builds one: company, BANT budget, a "wants a quote" rule."""

from __future__ import annotations

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.nurture.surveys import services as surveys
from tests.factories.leads import make_lead


def nurturing_lead(source, **fields) -> Lead:
    """A lead in nurturing, as the pipeline leaves one that is not sales-ready yet."""
    lead = make_lead(source, **fields)
    if lead.status != LeadStatus.NURTURING:
        lead = lead_services.transition(lead, to=LeadStatus.NURTURING, by=SYSTEM)
    return Lead.objects.get(pk=lead.pk)


@pytest.fixture
def survey(db):
    built = surveys.create_survey(
        by=SYSTEM,
        name="Interest check",
        title_en="How can we help?",
        title_nl="Hoe kunnen we helpen?",
        intro_en="Three short questions.",
        intro_nl="Drie korte vragen.",
    )
    surveys.add_question(
        built,
        by=SYSTEM,
        kind="text",
        text_en="Company name",
        text_nl="Bedrijfsnaam",
        maps_to="company_name",
    )
    surveys.add_question(
        built,
        by=SYSTEM,
        kind="single",
        text_en="Do you have a budget?",
        text_nl="Heb je budget?",
        is_required=True,
        maps_to="bant_budget",
        choices="Yes | Ja | met\nNo | Nee | not_met",
    )
    wants = surveys.add_question(
        built,
        by=SYSTEM,
        kind="multiple",
        text_en="What would you like?",
        text_nl="Wat wil je?",
        choices="A quote | Een offerte\nA brochure | Een brochure",
    )
    surveys.add_question(
        built, by=SYSTEM, kind="number", text_en="Employees", min_value=1, max_value=100000
    )
    surveys.add_question(built, by=SYSTEM, kind="date", text_en="Start date")
    surveys.add_rule(built, by=SYSTEM, question_id=wants.pk, choice="a-quote", action="sales_ready")
    return built


def inputs(survey) -> dict[str, str]:
    """The input names of the survey's questions by their English text."""
    return {q.text_en: q.field_name for q in survey.questions.all()}


@pytest.fixture
def reps(team):
    """Three reps in team North, for routing to pick from."""
    from leadloop.accounts.models import Role
    from tests.factories.accounts import make_user

    return [make_user(Role.SALES_REP, team=team, username=name) for name in ("noor", "daan", "sem")]
