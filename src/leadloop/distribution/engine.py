"""Which rule a lead matches, and why: pure Python over a rule set and a lead row.

The rule set is what `RuleSet`/`RuleDraft` store: an ordered list of rules, the first whose
conditions all hold wins, and a default action for the rest. No queries here: the routing
service, "Test a lead" and the dry run all decide through `decide`, and the benchmark times it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from leadloop.distribution import conditions


@dataclass(frozen=True)
class Check:
    text: str
    value: str
    ok: bool


@dataclass(frozen=True)
class Match:
    """The rule that decided (`index` None: the default) and its conditions as checked."""

    index: int | None
    name: str
    action: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)
    # Rules that matched but were passed over (their partner already turned the lead down).
    passed: tuple[str, ...] = ()

    @property
    def is_default(self) -> bool:
        return self.index is None


def _checks(rule: dict[str, Any], lead: Any) -> tuple[Check, ...]:
    return tuple(
        Check(
            text=conditions.as_text(condition),
            value=conditions.describe_value(lead, condition["field"]),
            ok=conditions.holds(condition, lead),
        )
        for condition in rule["conditions"]
    )


def decide(
    rules: Sequence[dict[str, Any]],
    default: dict[str, Any],
    lead: Any,
    *,
    pass_over: Callable[[dict[str, Any]], bool] | None = None,
) -> Match:
    """The first rule whose conditions all hold for `lead`, else the default. A matching rule
    whose action `pass_over` refuses (a partner that rejected this lead) lets the next one try."""
    passed: list[str] = []
    for index, rule in enumerate(rules):
        if all(conditions.holds(condition, lead) for condition in rule["conditions"]):
            if pass_over is not None and pass_over(rule["action"]):
                passed.append(rule["name"])
                continue
            return Match(index, rule["name"], rule["action"], _checks(rule, lead), tuple(passed))
    return Match(None, _("Default rule"), default, passed=tuple(passed))


def explain(rules: Sequence[dict[str, Any]], lead: Any) -> list[tuple[str, tuple[Check, ...]]]:
    """Every rule with each of its conditions checked against `lead` ("Test a lead")."""
    return [(rule["name"], _checks(rule, lead)) for rule in rules]
