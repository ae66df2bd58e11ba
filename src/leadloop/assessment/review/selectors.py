"""Reads for the review queue and a lead's assessment panel, scoped to what the actor may see."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.selectors import lead_visibility_within
from leadloop.assessment.findings import render
from leadloop.core.labels import label, stored_message, when
from leadloop.core.navigation import BADGE_CAP
from leadloop.core.paging import Keyset, Page, paginate
from leadloop.leads.models import Lead, LeadHold

STAGE_ORDER = ("verify", "device", "fraud", "enrich", "dedup", "score", "readiness")
STAGE_LABELS = {
    "verify": gettext_lazy("Verification"),
    "device": gettext_lazy("Device"),
    "fraud": gettext_lazy("Fraud screening"),
    "enrich": gettext_lazy("Appended data"),
    "dedup": gettext_lazy("Duplicates"),
    "score": gettext_lazy("Grade and scores"),
    "readiness": gettext_lazy("Sales-ready?"),
}


# A partner reader (leads.selectors.hide_fields) sees a stage's findings only when their list
# shows what those findings quote or judge: the e-mail domain, the phone's line type, the IP.
STAGE_KEYS: dict[str, tuple[str, ...]] = {
    "verify": ("email", "phone"),
    "device": ("device",),
    "fraud": ("fraud",),
    "enrich": ("company", "email", "phone"),
    "dedup": ("name", "email", "phone"),
    "score": ("grade", "scores"),
    "readiness": ("grade", "scores"),
}


# Highest fraud score first (a lead not scored yet counts as 0), newest first within a score.
HELD_ORDER = Keyset(("fraud", "created_at"), ("int", "datetime"))
# Counts past this say "1,000+": the badge and the tabs never count the whole table.
COUNT_CAP = BADGE_CAP


def _held(actor: Actor, hold: str = "") -> QuerySet[Lead]:
    qs = Lead.objects.filter(lead_visibility_within(actor, Q(hold__isnull=False)))
    if hold in LeadHold.values:
        qs = qs.filter(hold=hold)
    return qs


def list_held_leads(
    actor: Actor, *, hold: str = "", cursor: str | None = None, limit: int = 50
) -> Page[Lead]:
    """One page of the leads waiting for a person's review, highest fraud score first."""
    qs = _held(actor, hold).annotate(fraud=Coalesce("fraud_score", 0)).select_related("source")
    return paginate(qs, HELD_ORDER, cursor=cursor, limit=max(1, min(limit, 200)))


def count_held_leads(actor: Actor) -> int:
    """The navigation badge: held leads `actor` may see, counted up to 1,001 (shown "1,000+")
    on the partial indexes `lead_held_owner` and `lead_held_team`."""
    return _held(actor)[: COUNT_CAP + 1].count()


def count_held_by_kind(actor: Actor) -> dict[str, tuple[int, bool]]:
    """The review queue's tabs: held leads per kind of hold ("" for all), each counted up to
    1,000 with a flag that says there are more."""
    counts = {}
    for hold in ("", *LeadHold.values):
        n = _held(actor, hold)[: COUNT_CAP + 1].count()
        counts[hold] = (min(n, COUNT_CAP), n > COUNT_CAP)
    return counts


@dataclass(frozen=True)
class StageFindings:
    stage: str
    findings: list[dict[str, Any]]
    points: int

    @property
    def label(self) -> str:
        return str(STAGE_LABELS.get(self.stage, self.stage))


@dataclass(frozen=True)
class AssessmentView:
    """A lead's assessment as the page shows it: findings per stage in pipeline order."""

    stages: list[StageFindings]
    errors: list[dict[str, str]]
    device: dict[str, Any]
    readiness: dict[str, Any]
    fraud: dict[str, Any]
    duplicate: dict[str, Any] | None
    appended: dict[str, Any]
    raw: dict[str, Any]
    priority: dict[str, int] = field(default_factory=dict)
    assessed: bool = False

    @property
    def priority_parts(self) -> list[tuple[str, int]]:
        """What the priority is made of, each part named in the active language."""
        return [(label("priority", part), value) for part, value in self.priority.items()]

    @property
    def appended_rows(self) -> list[dict[str, str]]:
        """Appended values as the page shows them: field, value, provider and time, in the
        active language (a line type is a word, the time is in the user's zone)."""
        rows = []
        for name, item in self.appended.items():
            if not isinstance(item, dict):
                continue
            value = item.get("value", "")
            if name == "line_type":
                value = label("line_type", value)
            rows.append(
                {
                    "field": label("appended", name),
                    "value": str(value),
                    "provider": label("provider", item.get("provider", "")),
                    "at": when(item.get("at", "")),
                }
            )
        return rows


def assessment_view(lead: Lead) -> AssessmentView:
    """The stored assessment with every message rendered in the active language; for a reader
    who is not shown every field, without the stages and details about what is hidden."""
    doc = lead.assessment if isinstance(lead.assessment, dict) else {}
    shown = lead.shown

    def stage_shown(name: str) -> bool:
        return all(shown.shows(key) for key in STAGE_KEYS.get(name, ()))

    grouped: dict[str, list[dict[str, Any]]] = {}
    for found in _dicts(doc.get("findings")):
        text = render(found)
        shown_found = {**found, "message": text, "text": text}
        grouped.setdefault(str(found.get("stage", "")), []).append(shown_found)
    stages = [
        StageFindings(name, grouped[name], sum(int(f.get("points", 0)) for f in grouped[name]))
        for name in (*STAGE_ORDER, *sorted(set(grouped) - set(STAGE_ORDER)))
        if name in grouped and stage_shown(name)
    ]
    raw = _dict(doc.get("raw"))
    return AssessmentView(
        stages=stages,
        errors=list(_dicts(doc.get("errors"))) if shown.everything else [],
        device=_dict(doc.get("device")) if shown.shows("device") else {},
        readiness=_shown_readiness(_dict(doc.get("readiness"))) if stage_shown("readiness") else {},
        fraud=_dict(doc.get("fraud")) if shown.shows("fraud") else {},
        duplicate=(
            doc.get("duplicate")
            if isinstance(doc.get("duplicate"), dict) and stage_shown("dedup")
            else None
        ),
        appended=_dict(doc.get("appended")) if stage_shown("enrich") else {},
        raw=raw if shown.everything else {},
        priority=_dict(doc.get("priority")) if shown.shows("scores") else {},
        assessed=bool(doc),
    )


def _shown_readiness(readiness: dict[str, Any]) -> dict[str, Any]:
    summary = readiness.get("summary")
    if isinstance(summary, str):
        return {**readiness, "summary": stored_message(summary)}
    return readiness


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _dicts(value: Any) -> Iterable[dict[str, Any]]:
    if isinstance(value, list):
        yield from (item for item in value if isinstance(item, dict))
