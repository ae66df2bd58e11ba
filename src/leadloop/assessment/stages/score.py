"""Stage: grading and scoring.

- Fit grade A–D from marketing's profile rules (points summed, thresholds from the settings).
- Engagement score from behaviour on the timeline (form submissions, e-mail opens and clicks,
  page visits, survey answers): each rule's points, halved every `engagement_half_life_days`;
  a rule that is not repeatable counts once.
- The predicted chance of winning, from the active trained model (assessment/predictive.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext_noop

from leadloop.assessment.context import Context, Scores, Verification
from leadloop.assessment.findings import Finding, finding
from leadloop.assessment.models import EngagementEvent, GradingField, GradingRule, Operator
from leadloop.assessment.stages.base import stage
from leadloop.leads.models import Activity, ActivityKind, ChannelKind, FitGrade, Lead

STAGE = "score"
logger = logging.getLogger(__name__)

ENGAGEMENT_KINDS = (
    ActivityKind.FORM_SUBMITTED,
    ActivityKind.EMAIL_OPENED,
    ActivityKind.EMAIL_CLICKED,
    ActivityKind.PAGE_VISIT,
    ActivityKind.SURVEY_ANSWERED,
)
# A lead that arrives through a form or a post has submitted a form: its first engagement.
_SUBMITTING_CHANNELS = frozenset(
    {ChannelKind.WEB_FORM, ChannelKind.HTTP_POST, ChannelKind.EMAIL, ChannelKind.API}
)


@stage(
    STAGE,
    reads=("verify",),
    # The grading rules may name any of the GradingField columns; the predictive model reads
    # the lead's record (predictive.services.record_of).
    lead_reads=(
        "country",
        "job_title",
        "company_name",
        "organization",
        "extra",
        "source",
        "created_at",
        "landing_page",
        "language",
        "utm_source",
        "utm_medium",
        "bant_budget",
        "bant_authority",
        "bant_need",
        "bant_timeframe",
        "potential_revenue",
        "fit_grade",
        "engagement_score",
        "predictive_score",
    ),
    lead_writes=("fit_grade", "engagement_score", "predictive_score"),
)
def score(ctx: Context, *, verify: Verification | None) -> tuple[list[Finding], Scores]:
    """Fit grade, engagement score and predicted chance, each with its findings.

    They are set on the lead as they are worked out: the predicted chance reads the grade and
    the engagement score from the lead, as it does for a stored lead."""
    found, fit_points = _grade(ctx, verify.email_kind if verify is not None else "")
    found += _engagement(ctx)
    found += _predict(ctx)
    lead = ctx.lead
    return found, Scores(lead.fit_grade, fit_points, lead.engagement_score, lead.predictive_score)


def field_value(lead: Lead, rule: GradingRule, email_kind: str) -> Any:
    """The lead value a grading rule looks at."""
    if rule.field == GradingField.EMPLOYEES:
        org = lead.organization if lead.organization_id else None
        return org.employees if org is not None else (lead.extra or {}).get("employees")
    if rule.field == GradingField.INDUSTRY:
        org = lead.organization if lead.organization_id else None
        return (org.industry if org is not None else "") or (lead.extra or {}).get("industry", "")
    if rule.field == GradingField.SOURCE:
        return lead.source.name if lead.source_id else ""
    if rule.field == GradingField.EMAIL_KIND:
        return email_kind
    if rule.field == GradingField.EXTRA:
        return (lead.extra or {}).get(rule.extra_key, "") if isinstance(lead.extra, dict) else ""
    return getattr(lead, rule.field, "")


def matches(rule: GradingRule, value: Any) -> bool:
    """Does `value` satisfy the rule? Text compares case-insensitively; numbers as numbers."""
    text = "" if value is None else str(value).strip()
    wanted = rule.value.strip()
    op = rule.operator
    if op == Operator.IS_SET:
        return bool(text)
    if op == Operator.NOT_SET:
        return not text
    if op in (Operator.AT_LEAST, Operator.AT_MOST):
        number, limit = _number(text), _number(wanted)
        if number is None or limit is None:
            return False
        return number >= limit if op == Operator.AT_LEAST else number <= limit
    lowered = text.casefold()
    if op == Operator.EQUALS:
        return lowered == wanted.casefold()
    if op == Operator.IN:
        return lowered in {part.strip().casefold() for part in wanted.split(",") if part.strip()}
    if op == Operator.CONTAINS:
        return bool(wanted) and any(
            part.strip().casefold() in lowered for part in wanted.split(",") if part.strip()
        )
    return False


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "."))
    except (InvalidOperation, ValueError):
        return None


def grade_for(points: int, ctx: Context) -> str:
    s = ctx.settings
    if points >= s.grade_a_from:
        return FitGrade.A
    if points >= s.grade_b_from:
        return FitGrade.B
    if points >= s.grade_c_from:
        return FitGrade.C
    return FitGrade.D


def _grade(ctx: Context, kind: str) -> tuple[list[Finding], int]:
    rules = ctx.rules.grading
    if not rules:
        return [
            finding(
                STAGE,
                "no_grading_rules",
                gettext_noop("No grading rules yet: the fit grade is left as it was."),
            )
        ], 0
    found = []
    for rule in rules:
        value = field_value(ctx.lead, rule, kind)
        if matches(rule, value):
            label = rule.extra_key if rule.field == GradingField.EXTRA else rule.field
            found.append(
                finding(
                    STAGE,
                    "fit_rule",
                    gettext_noop("%(points)+d %(field)s %(operator)s '%(value)s'."),
                    rule.points,
                    points=rule.points,
                    field=label.replace("_", " "),
                    operator=str(Operator(rule.operator).label),
                    value=rule.value,
                    rule=rule.pk,
                )
            )
    points = sum(f.points for f in found)
    ctx.lead.fit_grade = grade_for(points, ctx)
    found.append(
        finding(
            STAGE,
            "fit_grade",
            gettext_noop("Fit grade %(grade)s (%(points)d points)."),
            grade=ctx.lead.fit_grade,
            points=points,
        )
    )
    return found, points


def _engagement(ctx: Context) -> list[Finding]:
    rules = ctx.rules.engagement
    events = list(_events(ctx))
    if not rules:
        ctx.lead.engagement_score = 0
        return []
    half_life = max(ctx.settings.engagement_half_life_days, 1)
    total = 0.0
    counted: dict[int, int] = {}
    for kind, at, text in events:
        for rule in rules:
            if rule.event != kind or (rule.match and rule.match.casefold() not in text):
                continue
            if not rule.is_repeatable and counted.get(rule.pk, 0):
                continue
            counted[rule.pk] = counted.get(rule.pk, 0) + 1
            age_days = max((ctx.now - at).total_seconds() / 86400, 0.0)
            total += rule.points * 0.5 ** (age_days / half_life)
    ctx.lead.engagement_score = round(total)
    if not counted:
        return [finding(STAGE, "no_engagement", gettext_noop("No engagement yet."))]
    by_rule = {rule.pk: rule for rule in rules}
    return [
        finding(
            STAGE,
            "engagement_rule",
            gettext_noop(
                "%(count)d × %(event)s (%(points)+d each, fading by half every %(days)d days)."
            ),
            0,
            count=count,
            event=str(EngagementEvent(by_rule[pk].event).label),
            points=by_rule[pk].points,
            days=half_life,
        )
        for pk, count in counted.items()
    ] + [
        finding(
            STAGE,
            "engagement",
            gettext_noop("Engagement score %(score)d."),
            score=ctx.lead.engagement_score,
        )
    ]


def _events(ctx: Context) -> Iterable[tuple[str, dt.datetime, str]]:
    """(kind, when, searchable text) of every engagement event of the lead, oldest first."""
    lead = ctx.lead
    if lead.pk is None:
        if lead.source_id and lead.source.kind in _SUBMITTING_CHANNELS:
            text = " ".join(str(v) for v in (ctx.meta.get("form_slug"), lead.landing_page) if v)
            yield ActivityKind.FORM_SUBMITTED, lead.created_at or ctx.now, text.casefold()
        return
    rows = Activity.objects.filter(
        lead_id__in=[lead.pk, *_merged_ids(lead)], kind__in=ENGAGEMENT_KINDS
    ).values_list("kind", "created_at", "message", "data")
    has_submission = False
    for kind, at, message, data in rows.order_by("created_at", "id")[:5000]:
        has_submission = has_submission or kind == ActivityKind.FORM_SUBMITTED
        yield kind, at, f"{message} {data}".casefold()
    if not has_submission and lead.source.kind in _SUBMITTING_CHANNELS:
        yield ActivityKind.FORM_SUBMITTED, lead.created_at, lead.landing_page.casefold()


def _merged_ids(lead: Lead) -> list[int]:
    return list(Lead.objects.filter(merged_into_id=lead.pk).values_list("pk", flat=True))


def _predict(ctx: Context) -> list[Finding]:
    try:
        from leadloop.assessment.predictive import services as predictive
    except ImportError:  # the predictive module is optional at import time (scikit-learn)
        return []
    chance = predictive.predict_for(ctx.lead)
    if chance is None:
        return []
    ctx.lead.predictive_score = chance
    return [
        finding(
            STAGE,
            "predicted",
            gettext_noop("Predicted chance of winning %(percent)d%%."),
            percent=round(chance * 100),
        )
    ]


def refresh_engagement(lead: Lead, *, snapshot: Any, now: dt.datetime) -> int:
    """The lead's engagement score at `now` (for the periodic refresh: decay needs no event)."""
    from leadloop.assessment.context import Context

    ctx = Context(
        lead=lead,
        meta={},
        now=now,
        rules=snapshot,
        policy=snapshot.policy_for(lead.source_id),
        is_new=False,
    )
    _engagement(ctx)
    return lead.engagement_score
