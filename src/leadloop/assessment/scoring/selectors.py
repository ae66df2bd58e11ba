"""Reads of the assessment configuration: scoring settings, rules, blocklist, source policies.

The configuration is the company's, not any one lead's, so these reads take no actor; the pages
and the API ask `can_view_readiness_rule` / `can_manage_configuration` before they show it.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.text import get_text_list
from django.utils.translation import gettext

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, can
from leadloop.assessment.models import (
    BlockEntry,
    EngagementRule,
    GradingRule,
    ScoringSettings,
    SourcePolicy,
)
from leadloop.assessment.scoring import rules
from leadloop.errors import NotFound
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.models import Source

GRADES = "ABCD"


def can_view_readiness_rule(actor: Actor) -> bool:
    """Marketing and admins set the readiness rule; sales managers read what was agreed."""
    return can(actor, Permission.VIEW_READINESS_RULE)


def get_scoring_settings() -> ScoringSettings:
    """The one settings row (unsaved, with the defaults, until someone first saves it)."""
    return rules.scoring_settings()


def list_grading_rules() -> QuerySet[GradingRule]:
    """Every grading rule, active or not, in the order they are applied."""
    return GradingRule.objects.all()


def get_grading_rule(rule_id: int) -> GradingRule:
    """One grading rule (NotFound when there is none with this id)."""
    rule = GradingRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(gettext("No such grading rule."))
    return rule


def list_engagement_rules() -> QuerySet[EngagementRule]:
    """Every engagement rule, active or not, by event."""
    return EngagementRule.objects.all()


def get_engagement_rule(rule_id: int) -> EngagementRule:
    """One engagement rule (NotFound when there is none with this id)."""
    rule = EngagementRule.objects.filter(pk=rule_id).first()
    if rule is None:
        raise NotFound(gettext("No such engagement rule."))
    return rule


def list_block_entries(*, kind: str | None = None, query: str = "") -> QuerySet[BlockEntry]:
    """The blocklist by kind and value, optionally of one kind, or with `query` in the value
    or the note."""
    entries = BlockEntry.objects.select_related("created_by")
    if kind:
        entries = entries.filter(kind=kind)
    query = query.strip().lower()
    if query:
        entries = entries.filter(Q(value__contains=query) | Q(note__icontains=query))
    return entries


def get_block_entry(entry_id: int) -> BlockEntry:
    """One blocklist entry (NotFound when there is none with this id)."""
    entry = BlockEntry.objects.filter(pk=entry_id).first()
    if entry is None:
        raise NotFound(gettext("No such blocklist entry."))
    return entry


def get_source_policy(source: Source) -> SourcePolicy:
    """The source's policy; the defaults (unsaved) when nobody has set one yet."""
    policy = SourcePolicy.objects.filter(source=source).first()
    return policy if policy is not None else SourcePolicy(source=source)


@dataclass(frozen=True)
class SourceWithPolicy:
    source: Source
    policy: SourcePolicy
    is_default: bool

    @property
    def never_rejects(self) -> bool:
        """A reject threshold above the highest fraud score (100) refuses nothing."""
        return self.policy.fraud_reject_at > 100


def list_source_policies(actor: Actor) -> list[SourceWithPolicy]:
    """Every source `actor` may see with its policy (the defaults where none was saved)."""
    saved = {p.source_id: p for p in SourcePolicy.objects.all()}
    return [
        SourceWithPolicy(
            source,
            saved.get(source.pk) or SourcePolicy(source=source),
            source.pk not in saved,
        )
        for source in leads_selectors.list_sources(actor)
    ]


@dataclass(frozen=True)
class FraudRule:
    code: str
    default: int
    weight: int
    description: str

    @property
    def is_changed(self) -> bool:
        return self.weight != self.default


def builtin_fraud_weights() -> dict[str, int]:
    """The fraud rules the fraud stage knows, with their built-in weights."""
    # Read at call time: the stage owns the list, and a rule it adds is configurable at once.
    from leadloop.assessment.stages import fraud

    table = getattr(fraud, "RULE_WEIGHTS", {}) or {}
    return {code: _default_weight(value) for code, value in table.items()}


def _default_weight(value: object) -> int:
    if isinstance(value, tuple | list) and value:
        value = value[0]
    return value if isinstance(value, int) else 0


def _description(code: str) -> str:
    from leadloop.assessment.stages import fraud

    value = (getattr(fraud, "RULE_WEIGHTS", {}) or {}).get(code)
    if isinstance(value, tuple | list) and len(value) > 1 and isinstance(value[1], str):
        return gettext(value[1])
    return code.replace("_", " ").capitalize()


def list_fraud_rules(settings: ScoringSettings | None = None) -> list[FraudRule]:
    """Every fraud rule with its weight now in force (the setting, else the built-in one)."""
    settings = settings or get_scoring_settings()
    configured = settings.fraud_weights or {}
    found = []
    for code, default in builtin_fraud_weights().items():
        weight = configured.get(code, default)
        found.append(
            FraudRule(
                code, default, weight if isinstance(weight, int) else default, _description(code)
            )
        )
    return found


def effective_fraud_weights(settings: ScoringSettings | None = None) -> dict[str, int]:
    """code → the weight in force, for every rule the fraud stage knows."""
    return {rule.code: rule.weight for rule in list_fraud_rules(settings)}


def readiness_sentence(settings: ScoringSettings | None = None) -> str:
    """The readiness rule in words, as marketing and sales agreed it (in the active language).

    "Sales-ready when grade is A or B, engagement ≥ 60 and at least 3 of 4 BANT criteria are met."
    """
    settings = settings or get_scoring_settings()
    grades = [g for g in GRADES if g in (settings.ready_grades or "")]
    conditions = [gettext("grade is %(grades)s") % {"grades": get_text_list(grades, gettext("or"))}]
    if settings.ready_min_engagement > 0:
        conditions.append(
            gettext("engagement ≥ %(score)d") % {"score": settings.ready_min_engagement}
        )
    if settings.ready_min_bant > 0:
        conditions.append(
            gettext("at least %(count)d of 4 BANT criteria are met")
            % {"count": settings.ready_min_bant}
        )
    if settings.ready_min_predictive is not None:
        conditions.append(
            gettext("the predicted chance is at least %(percent)d%%")
            % {"percent": round(settings.ready_min_predictive * 100)}
        )
    return gettext("Sales-ready when %(conditions)s.") % {
        "conditions": get_text_list(conditions, gettext("and"))
    }
