"""The learned match weights: EM recovers m and u, people's decisions refine them, and the intake
finds a duplicate that shares no e-mail or phone."""

from __future__ import annotations

import json

import numpy as np
import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.assessment.dedup import services as dedup_services
from leadloop.assessment.dedup.matching import model as match_model
from leadloop.assessment.dedup.matching.fields import DIFFERENT, EXACT, FIELDS, LEVELS
from leadloop.assessment.models import DuplicatePair, MatchWeights, PairState
from leadloop.assessment.scoring import services as config
from leadloop.intake import services as intake
from leadloop.leads.models import Lead, LeadHold
from tests.factories.leads import make_lead, make_source

# The truth the generated pairs are drawn from: per field, P(level) for levels 1–4.
TRUE_M = (0.85, 0.08, 0.04, 0.03)
TRUE_U = (0.05, 0.03, 0.07, 0.85)


def _pairs(count: int, share: float, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    is_match = rng.random(count) < share
    vectors = np.zeros((count, len(FIELDS)), dtype=np.int64)
    for f in range(len(FIELDS)):
        vectors[is_match, f] = rng.choice(4, size=is_match.sum(), p=TRUE_M) + 1
        vectors[~is_match, f] = rng.choice(4, size=(~is_match).sum(), p=TRUE_U) + 1
    vectors[rng.random((count, len(FIELDS))) < 0.1] = 0  # a tenth of the values missing
    return vectors, is_match


def test_em_recovers_m_u_and_the_share_of_matches():
    vectors, is_match = _pairs(4000, 0.2)

    fit = match_model.fit(vectors.tolist())

    assert fit.converged
    assert abs(fit.model.prior - is_match.mean()) < 0.02
    for f in range(len(FIELDS)):
        assert abs(fit.model.m[f][EXACT] - TRUE_M[0]) < 0.04
        assert abs(fit.model.u[f][EXACT] - TRUE_U[0]) < 0.04
        assert abs(fit.model.u[f][DIFFERENT] - TRUE_U[3]) < 0.04


def test_fitted_weights_separate_matches_from_non_matches():
    vectors, is_match = _pairs(4000, 0.2)

    model = match_model.fit(vectors.tolist()).model
    predicted = np.array([model.probability(model.weight(v)) >= 0.85 for v in vectors])

    assert (predicted == is_match).mean() > 0.97


def test_too_few_pairs_keep_the_weights_given():
    vectors, _ = _pairs(match_model.MIN_PAIRS - 1, 0.2)

    fit = match_model.fit(vectors.tolist())

    assert fit.model == match_model.DEFAULT
    assert fit.iterations == 0


def test_merges_and_dismissals_are_held_as_matches_and_non_matches():
    vectors, _ = _pairs(1000, 0.2)
    # People merged pairs whose first names differ (a first name replaced by another) and said
    # that pairs agreeing on everything but the house number are two people.
    merged = [[DIFFERENT, EXACT, EXACT, EXACT, EXACT, EXACT, EXACT]] * 200
    dismissed = [[EXACT, EXACT, DIFFERENT, EXACT, EXACT, EXACT, EXACT]] * 200
    unlabelled = match_model.fit(vectors.tolist())

    refined = match_model.fit(
        [*vectors.tolist(), *merged, *dismissed], labels=[-1] * 1000 + [1] * 200 + [0] * 200
    )

    assert refined.model.m[0][DIFFERENT] > unlabelled.model.m[0][DIFFERENT] + 0.1
    assert refined.model.u[0][EXACT] > unlabelled.model.u[0][EXACT] + 0.1


def test_the_weights_are_log_ratios_and_missing_values_add_nothing():
    model = match_model.DEFAULT
    exact = [EXACT] * len(FIELDS)
    missing_first = [0, *exact[1:]]

    expected = sum(np.log2(model.m[f][EXACT] / model.u[f][EXACT]) for f in range(len(FIELDS)))
    assert model.weight(exact) == pytest.approx(expected)
    assert model.weight(exact) - model.weight(missing_first) == pytest.approx(
        np.log2(model.m[0][EXACT] / model.u[0][EXACT])
    )
    assert len(model.m[0]) == LEVELS


# --- Through the services --------------------------------------------------------------------


@pytest.fixture
def au(db):
    return make_source("Web AU", country="AU")


KAYLA = {
    "first_name": "Kayla",
    "last_name": "Harrington",
    "house_number": "12",
    "street": "Maltby Circuit",
    "city": "Coolaroo",
    "postal_code": "3465",
    "region": "NSW",
}


def _submit(source, fields):
    submission = intake.receive(
        source=source,
        channel="http",
        body=json.dumps(fields).encode(),
        content_type="application/json",
    )
    return intake.process_submission(submission.pk)


def test_intake_holds_a_duplicate_without_e_mail_or_phone_for_review(au):
    config.set_source_policy(
        au, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="review"
    )
    first = _submit(au, KAYLA)

    # Typos in both names, the street type written short, two digits of the postcode swapped.
    second = _submit(
        au,
        {**KAYLA, "first_name": "Kaylla", "last_name": "Harington", "street": "maltby cct",
         "postal_code": "3456"},
    )  # fmt: skip

    pair = DuplicatePair.objects.get()
    assert {pair.lead_id, pair.other_id} == {first.lead_id, second.lead_id}
    assert pair.score >= 0.85
    assert pair.reasons[0].startswith("name and address: ")
    assert Lead.objects.get(pk=second.lead_id).hold == LeadHold.DUPLICATE_REVIEW


def test_intake_keeps_a_family_member_at_the_same_address_apart(au):
    config.set_source_policy(
        au, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="review"
    )
    _submit(au, KAYLA)

    second = _submit(au, {**KAYLA, "first_name": "Olivia"})

    assert DuplicatePair.objects.count() == 0
    assert Lead.objects.get(pk=second.lead_id).hold is None


def test_refit_stores_the_weights_with_the_decisions_it_used(au, marketing):
    kayla = make_lead(au, **KAYLA)
    twin = make_lead(au, **{**KAYLA, "first_name": "Kaylla"})
    neighbour = make_lead(au, **{**KAYLA, "first_name": "Kylie", "house_number": "14"})
    for lead in (kayla, twin, neighbour):
        assessment_services.reassess_lead(lead)
    dedup_services.merge_leads(kayla, twin, by=marketing)
    pair = DuplicatePair.objects.create(
        lead=neighbour, other=kayla, score=0.9, reasons=[], found_at=kayla.created_at
    )
    dedup_services.dismiss_pair(pair, by=marketing)

    row = dedup_services.refit_match_model(by=marketing)

    assert MatchWeights.objects.count() == 1
    assert (row.labelled_matches, row.labelled_non_matches) == (1, 1)
    assert row.fitted_by == marketing
    assert DuplicatePair.objects.get(pk=pair.pk).state == PairState.DISMISSED
    # Three leads make too few pairs to fit: the weights in force are kept, and read back.
    assert match_model.current() == match_model.DEFAULT
    assert row.model == match_model.DEFAULT.as_json()
