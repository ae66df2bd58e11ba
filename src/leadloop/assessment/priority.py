"""A lead's priority: one number every queue sorts by, and what it is made of."""

from __future__ import annotations

import datetime as dt
import math

from leadloop.leads.models import FitGrade, Lead, LeadStatus

# A closed lead needs no follow-up, so its contact deadline adds no urgency.
CLOSED_STATUSES = frozenset({LeadStatus.WON, LeadStatus.LOST, LeadStatus.DISQUALIFIED})

GRADE_POINTS = {FitGrade.A: 400, FitGrade.B: 300, FitGrade.C: 150, FitGrade.D: 50, "": 100}


def priority_of(lead: Lead, *, now: dt.datetime) -> tuple[int, dict[str, int]]:
    """One number to sort every queue by (higher first), and what it is made of.

    Grade carries the most; engagement and the predicted chance add up to 200 each; a first
    contact that is due soon or overdue adds urgency unless the lead is closed (won, lost,
    disqualified); potential value adds up to 100 on a log
    scale; suspected fraud and holds take points off.
    """
    parts: dict[str, int] = {"grade": GRADE_POINTS.get(lead.fit_grade, 100)}
    parts["engagement"] = max(0, min(lead.engagement_score, 100)) * 2
    if lead.predictive_score is not None:
        parts["predicted"] = round(max(0.0, min(lead.predictive_score, 1.0)) * 200)
    due = lead.first_contact_due_at
    if due is not None and lead.last_contacted_at is None and lead.status not in CLOSED_STATUSES:
        hours_left = (due - now).total_seconds() / 3600
        parts["sla"] = (
            150 if hours_left <= 0 else 120 if hours_left < 4 else 60 if hours_left < 24 else 0
        )
    value = lead.potential_revenue
    if value is not None and value > 0:
        parts["value"] = min(100, round(20 * math.log10(float(value))))
    if lead.fraud_score:
        parts["fraud"] = -2 * lead.fraud_score
    if lead.hold:
        parts["hold"] = -200
    return sum(parts.values()), {k: v for k, v in parts.items() if v}


def rescore_after_status_change(lead: Lead, *, at: dt.datetime) -> None:
    """The priority and its stored breakdown again, on a lead whose status just changed.

    Registered as `leads.entry.rescore_after_status_change`: `leads.services.transition` calls it
    on the locked row before saving it, so a lead that closes loses its contact urgency in the
    same UPDATE and transaction (and a reopened one gets it back). A lead not assessed yet keeps
    its priority until the pending assessment gives it one.
    """
    if lead.assessed_at is None:
        return
    lead.priority, parts = priority_of(lead, now=at)
    if isinstance(lead.assessment, dict):
        lead.assessment = {**lead.assessment, "priority": parts}
