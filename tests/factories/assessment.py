"""Assessment configuration and findings, made through the real services (as SYSTEM)."""

from __future__ import annotations

from typing import Any

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.dedup.matching import find_duplicate_pairs
from leadloop.assessment.models import (
    BlockEntry,
    DuplicatePair,
    EngagementRule,
    GradingRule,
    ScoringSettings,
    SourcePolicy,
)
from leadloop.assessment.scoring import services as scoring
from leadloop.assessment.scoring.selectors import get_source_policy
from leadloop.leads.models import Lead, Source


def make_grading_rule(*, field: str, operator: str, points: int, value: str = "") -> GradingRule:
    return scoring.create_grading_rule(
        by=SYSTEM, field=field, operator=operator, value=value, points=points
    )


def make_engagement_rule(*, event: str, points: int, **kwargs: Any) -> EngagementRule:
    return scoring.create_engagement_rule(by=SYSTEM, event=event, points=points, **kwargs)


def make_block_entry(*, kind: str, value: str) -> BlockEntry:
    return scoring.create_block_entry(by=SYSTEM, kind=kind, value=value)


def set_scoring_settings(**changes: Any) -> ScoringSettings:
    return scoring.update_scoring_settings(by=SYSTEM, **changes)


def set_source_policy(
    source: Source, *, fraud_review_at: int, fraud_reject_at: int, on_duplicate: str = ""
) -> SourcePolicy:
    return scoring.set_source_policy(
        source,
        by=SYSTEM,
        fraud_review_at=fraud_review_at,
        fraud_reject_at=fraud_reject_at,
        on_duplicate=on_duplicate or get_source_policy(source).on_duplicate,
    )


def find_pair(lead: Lead, other: Lead) -> DuplicatePair:
    """The open pair the nightly duplicate scan keeps for two leads it finds alike."""
    find_duplicate_pairs()
    pair = DuplicatePair.objects.filter(lead__in=(lead, other), other__in=(lead, other)).first()
    assert pair is not None, "the duplicate scan did not pair these leads"
    return pair
