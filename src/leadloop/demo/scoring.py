"""A marketing team's first scoring set-up, for the demo: grading and engagement rules and a
readiness rule, made through the configuration services like a person would."""

from __future__ import annotations

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.models import EngagementRule, GradingRule
from leadloop.assessment.scoring import services as config

GRADING = (
    (
        "job_title",
        "contains",
        "director, head, chief, ceo, owner, founder, directeur, eigenaar",
        30,
    ),
    ("job_title", "contains", "manager, lead, hoofd", 15),
    ("country", "in", "NL, BE, DE", 20),
    ("email_kind", "equals", "business", 15),
    ("email_kind", "in", "free, role", -10),
    ("employees", "gte", "50", 15),
    ("employees", "gte", "500", 10),
)
ENGAGEMENT = (
    ("form_submitted", 20, True),
    ("email_opened", 3, True),
    ("email_clicked", 8, True),
    ("page_visit", 2, True),
    ("survey_answered", 15, False),
)


def seed_rules() -> bool:
    """Add the demo's rules when there are none yet; True when it added them."""
    if GradingRule.objects.exists() or EngagementRule.objects.exists():
        return False
    for field, operator, value, points in GRADING:
        config.create_grading_rule(
            by=SYSTEM, field=field, operator=operator, value=value, points=points
        )
    for event, points, repeatable in ENGAGEMENT:
        config.create_engagement_rule(
            by=SYSTEM, event=event, points=points, is_repeatable=repeatable
        )
    config.update_scoring_settings(
        by=SYSTEM, ready_grades="AB", ready_min_engagement=20, ready_min_bant=2
    )
    return True
