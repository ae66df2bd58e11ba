"""Routing settings changes in the audit log: which setting, of which team, rep or partner,
from what to what. Values only, never free text a person typed (an absence's reason may say
why someone is away: health data stays out of the log)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction


def _plain(value: Any) -> Any:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def record_setting_change(
    *,
    by: Actor,
    setting: str,
    target_type: str,
    target_id: int,
    target_label: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
) -> bool:
    """One `setting_changed` event with the values that changed, before and after; a setting
    added (`before` None) or removed (`after` None) shows all its values. Nothing is written
    when nothing changed. Returns whether an event was written."""
    old = {name: _plain(value) for name, value in (before or {}).items()}
    new = {name: _plain(value) for name, value in (after or {}).items()}
    if before is None or after is None:
        changed = sorted(old.keys() | new.keys())
    else:
        changed = sorted(name for name in old.keys() | new.keys() if old.get(name) != new.get(name))
        if not changed:
            return False
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label,
        data={
            "setting": setting,
            "before": None if before is None else {name: old.get(name) for name in changed},
            "after": None if after is None else {name: new.get(name) for name in changed},
        },
    )
    return True
