"""Stage: readiness. Is the lead sales-ready by the rule marketing and sales agreed on?

The rule (scoring settings): the fit grade is one of `ready_grades`, the engagement score is at
least `ready_min_engagement`, at least `ready_min_bant` of Budget, Authority, Need and Time are
met, and, when set, the predicted chance is at least `ready_min_predictive`. A lead held for
review, or one the fraud screen did not accept, is not ready whatever it scores.
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from leadloop.assessment.context import Context, FraudResult, Readiness, Scores
from leadloop.assessment.findings import Finding, finding
from leadloop.assessment.stages.base import stage

STAGE = "readiness"


@stage(
    STAGE,
    reads=("fraud", "score"),
    lead_reads=(
        "bant_budget",
        "bant_authority",
        "bant_need",
        "bant_timeframe",
        "assessment",
        # only when the score stage failed: the values the lead already holds
        "fit_grade",
        "engagement_score",
        "predictive_score",
    ),
)
def judge_readiness(
    ctx: Context, *, fraud: FraudResult | None, score: Scores | None
) -> tuple[list[Finding], Readiness]:
    """One finding per condition of the rule, met or not, and the verdict.

    Without a fraud result (that stage failed) nothing holds the lead back; without scores it
    is judged by the grade, engagement and chance the lead already holds."""
    s, lead = ctx.settings, ctx.lead
    if score is not None:
        grade, engagement, chance = score.fit_grade, score.engagement_score, score.predictive_score
    else:
        grade, engagement, chance = lead.fit_grade, lead.engagement_score, lead.predictive_score
    conditions: list[tuple[bool, Finding]] = []
    grades = s.ready_grades.upper()
    if grades:
        met = bool(grade) and grade in grades
        conditions.append(
            (
                met,
                finding(
                    STAGE,
                    "grade_met" if met else "grade_not_met",
                    gettext_noop("Grade %(grade)s; the rule asks %(grades)s."),
                    grade=grade or "—",
                    grades="/".join(grades),
                ),
            )
        )
    if s.ready_min_engagement > 0:
        met = engagement >= s.ready_min_engagement
        conditions.append(
            (
                met,
                finding(
                    STAGE,
                    "engagement_met" if met else "engagement_not_met",
                    gettext_noop("Engagement %(score)d; the rule asks at least %(min)d."),
                    score=engagement,
                    min=s.ready_min_engagement,
                ),
            )
        )
    if s.ready_min_bant > 0:
        met = lead.bant_met_count >= s.ready_min_bant
        missing = [
            name
            for name, answer in (
                ("Budget", lead.bant_budget),
                ("Authority", lead.bant_authority),
                ("Need", lead.bant_need),
                ("Time", lead.bant_timeframe),
            )
            if answer != "met"
        ]
        conditions.append(
            (
                met,
                finding(
                    STAGE,
                    "bant_met" if met else "bant_not_met",
                    gettext_noop(
                        "%(count)d of 4 BANT criteria met (not yet: %(missing)s);"
                        " the rule asks %(min)d."
                    ),
                    count=lead.bant_met_count,
                    missing=", ".join(missing) or "—",
                    min=s.ready_min_bant,
                ),
            )
        )
    if s.ready_min_predictive is not None:
        met = chance is not None and chance >= s.ready_min_predictive
        conditions.append(
            (
                met,
                finding(
                    STAGE,
                    "predicted_met" if met else "predicted_not_met",
                    gettext_noop("Predicted chance %(chance)s; the rule asks at least %(min)d%%."),
                    chance="—" if chance is None else f"{round(chance * 100)}%",
                    min=round(s.ready_min_predictive * 100),
                ),
            )
        )
    reviewed = bool((lead.assessment or {}).get("fraud_accepted_by_review"))
    blocked = fraud is not None and fraud.held and not (reviewed or ctx.trusted)
    sales_ready = all(met for met, _f in conditions) and not blocked
    found = [f for _met, f in conditions]
    if blocked:
        found.append(
            finding(
                STAGE,
                "held_for_fraud",
                gettext_noop("Not ready while the fraud screen has not accepted it."),
            )
        )
    if sales_ready:
        summary = gettext_noop("Sales-ready: every condition of the rule is met.")
    elif blocked:
        summary = gettext_noop("Held: not ready until a person has reviewed the fraud signals.")
    else:
        summary = gettext_noop("Nurturing: not every condition of the rule is met.")
    found.append(finding(STAGE, "ready" if sales_ready else "not_ready", summary))
    met_count = sum(1 for met, _f in conditions if met)
    return found, Readiness(sales_ready, found[-1].message, met_count, len(conditions))
