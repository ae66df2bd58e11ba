"""Editing routing rules: a draft checked on every save, published as a new numbered version.

The draft and each version hold the same document: `{"rules": [...], "default": {...}}`. A
rule is `{"name", "conditions": [...], "action": {...}}`; actions name their team, person or
partner by id, with the name beside it so a version still reads after the target is gone.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget, PartnerOrganization, Role, Team, User
from leadloop.accounts.permissions import Permission, require
from leadloop.distribution import actions, conditions, selectors
from leadloop.distribution.models import RuleDraft, RuleSet
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads.services import actor_label, clean_text

MAX_RULES = 200
MAX_CONDITIONS = 20
MAX_NAME = 200


def _user_of(by: Actor) -> User | None:
    return by if isinstance(by, User) else None


def _clean_sell(
    action: dict[str, Any], *, where: str, errors: dict[str, list[str]]
) -> dict[str, Any]:
    """Selling to the buyers: an optional floor price and the auction's deadline (ms)."""
    from decimal import Decimal, InvalidOperation

    try:
        floor = Decimal(str(action.get("floor") or "0").replace(",", "."))
        deadline = int(action.get("deadline_ms") or 750)
    except (InvalidOperation, ValueError):
        errors[where] = [_("A floor price is an amount and a deadline a number of ms.")]
        return {}
    if not floor.is_finite() or floor < 0 or not 50 <= deadline <= 10000:
        errors[where] = [_("A floor of 0 or more, and a deadline of 50 to 10000 ms.")]
        return {}
    return {
        "kind": actions.SELL,
        "floor": str(floor.quantize(Decimal("0.01"))),
        "deadline_ms": deadline,
    }


def clean_action(action: Any, *, where: str, errors: dict[str, list[str]]) -> dict[str, Any]:
    """The action checked against the database: its team, person or partner exists and can take
    leads. The name is refreshed from the row."""
    if not isinstance(action, dict) or action.get("kind") not in actions.KINDS:
        errors[where] = [_("Choose a team, a person, a partner, nurturing or selling.")]
        return {}
    kind = action["kind"]
    if kind == actions.NURTURE:
        return {"kind": kind}
    if kind == actions.SELL:
        return _clean_sell(action, where=where, errors=errors)
    if kind == actions.TEAM:
        team = _by_id_or_name(Team, action.get("team_id"), action.get("team"), "name")
        if team is None:
            errors[where] = [_("There is no team %(name)s.") % {"name": action.get("team", "")}]
            return {}
        mode = action.get("mode", actions.PUSH)
        if mode not in (actions.PUSH, actions.POOL):
            errors[where] = [_("A team takes leads by push or in its pool.")]
            return {}
        if mode == actions.PUSH and not selectors.team_sales_members(team).exists():
            errors[where] = [
                _(
                    "Team %(name)s has no active sales members to push leads to: add members, or "
                    "send its leads to the team's pool."
                )
                % {"name": team.name}
            ]
            return {}
        return {"kind": kind, "team_id": team.pk, "team": team.name, "mode": mode}
    if kind == actions.PERSON:
        user = _by_id_or_name(User, action.get("user_id"), action.get("user"), "username")
        if user is None:
            errors[where] = [_("There is no user %(name)s.") % {"name": action.get("user", "")}]
            return {}
        if not user.is_active or user.role not in (Role.SALES_REP, Role.SALES_MANAGER):
            errors[where] = [
                _("%(name)s is not an active sales rep or manager.") % {"name": user.username}
            ]
            return {}
        return {"kind": kind, "user_id": user.pk, "user": user.username}
    partner = _by_id_or_name(
        PartnerOrganization, action.get("partner_id"), action.get("partner"), "name"
    )
    if partner is None or not partner.is_active:
        errors[where] = [
            _("There is no active partner %(name)s.") % {"name": action.get("partner", "")}
        ]
        return {}
    return {"kind": kind, "partner_id": partner.pk, "partner": partner.name}


def _by_id_or_name(model: Any, pk: Any, name: Any, name_field: str) -> Any:
    if isinstance(pk, int) and not isinstance(pk, bool) and 0 < pk < 2**63:
        return model.objects.filter(pk=pk).first()
    if isinstance(name, str) and name.strip():
        return model.objects.filter(**{name_field: name.strip()}).first()
    return None


def clean_document(document: Any) -> dict[str, Any]:
    """The rule set checked whole: names, conditions, actions and the default. ValidationFailed
    lists every problem, keyed `rules.N.name`, `rules.N.conditions`, `rules.N.action`,
    `default` (N counts from 1, as the page shows)."""
    if not isinstance(document, dict):
        raise ValidationFailed(_("A rule set has rules and a default."), errors={})
    raw_rules = document.get("rules", [])
    errors: dict[str, list[str]] = {}
    if not isinstance(raw_rules, list):
        raise ValidationFailed(_("The rules are a list."), errors={"rules": [_("Not a list.")]})
    if len(raw_rules) > MAX_RULES:
        raise ValidationFailed(
            _("At most %(n)d rules.") % {"n": MAX_RULES}, errors={"rules": [_("Too many.")]}
        )
    cleaned, seen = [], set()
    for number, rule in enumerate(raw_rules, start=1):
        where = f"rules.{number}"
        if not isinstance(rule, dict):
            errors[where] = [_("A rule has a name, conditions and an action.")]
            continue
        name = clean_text(str(rule.get("name", "")))[:MAX_NAME]
        if not name:
            errors[f"{where}.name"] = [_("Give the rule a name.")]
        elif name.casefold() in seen:
            errors[f"{where}.name"] = [_("Another rule has this name.")]
        seen.add(name.casefold())
        raw_conditions = rule.get("conditions", [])
        if isinstance(raw_conditions, str):
            raw_conditions = _parse_or_error(raw_conditions, f"{where}.conditions", errors)
        if not isinstance(raw_conditions, list):
            errors[f"{where}.conditions"] = [_("The conditions are a list.")]
            raw_conditions = []
        if not raw_conditions and f"{where}.conditions" not in errors:
            errors[f"{where}.conditions"] = [
                _("A rule needs at least one condition; the default rule takes every other lead.")
            ]
        if len(raw_conditions) > MAX_CONDITIONS:
            errors[f"{where}.conditions"] = [
                _("At most %(n)d conditions in a rule.") % {"n": MAX_CONDITIONS}
            ]
            raw_conditions = []
        clean_conditions = []
        for condition in raw_conditions:
            try:
                clean_conditions.append(conditions.clean(condition))
            except conditions.ConditionError as exc:
                errors.setdefault(f"{where}.conditions", []).append(str(exc))
        action = clean_action(rule.get("action"), where=f"{where}.action", errors=errors)
        cleaned.append({"name": name, "conditions": clean_conditions, "action": action})
    default = clean_action(document.get("default"), where="default", errors=errors)
    if errors:
        raise ValidationFailed(_("The rules have problems; nothing was saved."), errors=errors)
    return {"rules": cleaned, "default": default}


def _parse_or_error(text: str, where: str, errors: dict[str, list[str]]) -> list[Any]:
    try:
        return conditions.parse_text(text)
    except conditions.ConditionError as exc:
        errors[where] = [str(exc)]
        return []


@transaction.atomic
def save_draft(document: Any, *, by: Actor) -> RuleDraft:
    """Check the whole rule set and keep it as the draft (nothing routes by it yet)."""
    require(by, Permission.CONFIGURE_ROUTING)
    clean = clean_document(document)
    draft = selectors.get_draft_row()
    draft.rules, draft.default = clean["rules"], clean["default"]
    draft.updated_by_label = actor_label(by)
    draft.updated_at = timezone.now()
    draft.save()
    return draft


def _draft_document() -> dict[str, Any]:
    draft = selectors.get_draft_row()
    return {"rules": list(draft.rules), "default": dict(draft.default)}


def put_draft_rule(rule: dict[str, Any], *, by: Actor, index: int | None = None) -> RuleDraft:
    """Add a rule at the end of the draft, or replace the rule at `index` (from 0)."""
    document = _draft_document()
    if index is None:
        document["rules"].append(rule)
    else:
        _check_index(document, index)
        document["rules"][index] = rule
    return save_draft(document, by=by)


def move_draft_rule(index: int, *, by: Actor, offset: int) -> RuleDraft:
    """Move a rule up (offset -1) or down (+1): order decides, the first match wins."""
    document = _draft_document()
    _check_index(document, index)
    target = index + offset
    if 0 <= target < len(document["rules"]):
        rules = document["rules"]
        rules[index], rules[target] = rules[target], rules[index]
    return save_draft(document, by=by)


def delete_draft_rule(index: int, *, by: Actor) -> RuleDraft:
    document = _draft_document()
    _check_index(document, index)
    del document["rules"][index]
    return save_draft(document, by=by)


def set_draft_default(action: dict[str, Any], *, by: Actor) -> RuleDraft:
    """What happens to a lead no rule matches."""
    document = _draft_document()
    document["default"] = action
    return save_draft(document, by=by)


def _check_index(document: dict[str, Any], index: int) -> None:
    if not 0 <= index < len(document["rules"]):
        raise NotFound(_("No such rule."))


@transaction.atomic
def discard_draft(*, by: Actor) -> None:
    """Forget the draft's changes: it holds the rules in force again."""
    require(by, Permission.CONFIGURE_ROUTING)
    RuleDraft.objects.filter(pk=1).delete()


@transaction.atomic
def publish(*, by: Actor, note: str = "", document: Any = None) -> RuleSet:
    """Publish the draft (or `document`) as the next version: from now on leads route by it."""
    require(by, Permission.CONFIGURE_ROUTING)
    if document is None:
        draft = selectors.get_draft_row()
        document = {"rules": draft.rules, "default": draft.default}
    clean = clean_document(document)
    latest = RuleSet.objects.select_for_update().aggregate(top=Max("version"))["top"] or 0
    now = timezone.now()
    published = RuleSet.objects.create(
        version=latest + 1,
        rules=clean["rules"],
        default=clean["default"],
        note=clean_text(note)[:300],
        published_by=_user_of(by),
        published_by_label=actor_label(by),
        published_at=now,
    )
    RuleDraft.objects.update_or_create(
        pk=1,
        defaults={
            "rules": clean["rules"],
            "default": clean["default"],
            "based_on": published.version,
            "updated_by_label": actor_label(by),
            "updated_at": now,
        },
    )
    _audit(by, published)
    # This process routes by the new version at once; the others within the cache's few seconds.
    selectors.forget_active()
    transaction.on_commit(selectors.forget_active)
    return published


def restore_to_draft(version: int, *, by: Actor) -> RuleDraft:
    """Copy an earlier version into the draft, to look at or publish again (a roll-back)."""
    require(by, Permission.CONFIGURE_ROUTING)
    found = RuleSet.objects.filter(version=version).first() if 0 < version < 2**31 else None
    if found is None:
        raise NotFound(_("No version %(n)s.") % {"n": version})
    draft = selectors.get_draft_row()
    draft.rules, draft.default, draft.based_on = found.rules, found.default, found.version
    draft.updated_by_label = actor_label(by)
    draft.updated_at = timezone.now()
    draft.save()
    return draft


def _audit(by: Actor, rule_set: RuleSet) -> None:
    record_audit(
        actor=by,
        action=AuditAction.RULE_CHANGED,
        target_type=AuditTarget.RULE,
        target_id=f"routing-v{rule_set.version}",
        target_label=_("Routing rules v%(n)d") % {"n": rule_set.version},
        data={"rules": len(rule_set.rules), "note": rule_set.note},
    )


def export_document(document: dict[str, Any]) -> dict[str, Any]:
    """The rule set with its targets by name only, to import into another installation."""

    def by_name(action: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in action.items() if not key.endswith("_id")}

    return {
        "rules": [{**rule, "action": by_name(rule["action"])} for rule in document["rules"]],
        "default": by_name(document["default"]),
    }
