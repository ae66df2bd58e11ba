"""What an import reads and reports, and the validation of its rows (in worker processes)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.utils.translation import gettext as _

from leadloop.intake.mapping import (
    TARGETS,
    MappingError,
    map_record,
)
from leadloop.intake.outcome import clean_keeping_lead
from leadloop.intake.synonyms import fold_label
from leadloop.leads.contact import has_minimum_contact, missing_contact_message
from leadloop.leads.models import LeadStatus, MinimumContact
from leadloop.leads.services import clean_lead_input
from leadloop.leads.services.changes import derived_values

logger = logging.getLogger(__name__)


CHUNK_ROWS = 5_000
WORKERS = 2
# Starting a worker process costs about a second; a small file is validated in this process.
INLINE_BELOW_BYTES = 2_000_000
SAMPLE_REJECTS = 100
REPORT_NAME = "rejected.csv"
# Column targets a file may not set: ids of other records are not taken from a spreadsheet.
NOT_FROM_FILES = frozenset({"campaign_id", "organization_id"})
# History from another system: an outcome column makes closed leads (won, lost, disqualified), so
# the predictive model can learn from them. Only files may set it: a form or a sender never does.
OUTCOME = "status"
IMPORT_TARGETS = TARGETS | {OUTCOME}
OUTCOMES = {
    fold_label(value): status
    for status, values in (
        (LeadStatus.WON, ("won", "closed won", "gewonnen")),
        (LeadStatus.LOST, ("lost", "closed lost", "verloren")),
        (LeadStatus.DISQUALIFIED, ("disqualified", "unqualified", "gediskwalificeerd")),
        ("", ("", "open", "new", "nieuw")),
    )
    for value in values
}
# What a person may say another system's value means ("Closed - Converted" → won): the mapping
# document's "outcome_values", {value: choice}. Chosen values come before the defaults above.
OUTCOME_CHOICES = {
    "won": LeadStatus.WON,
    "lost": LeadStatus.LOST,
    "disqualified": LeadStatus.DISQUALIFIED,
    "open": "",
}
MAX_OUTCOME_VALUES = 200


def outcome_values_errors(values: Any) -> dict[str, list[str]]:
    """Field errors in an "outcome_values" object (empty when it is usable)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        return {
            "outcome_values": [_("Expected an object of value → won, lost, disqualified or open.")]
        }
    if len(values) > MAX_OUTCOME_VALUES:
        return {"outcome_values": [_("At most %(limit)d values.") % {"limit": MAX_OUTCOME_VALUES}]}
    return {
        f"outcome_values.{value}": [_("Choose won, lost, disqualified or open.")]
        for value, choice in values.items()
        if not isinstance(choice, str) or choice not in OUTCOME_CHOICES
    }


def outcome_of(raw: str, chosen: dict[str, str]) -> str | None:
    """The status a value means: the person's choice, then the defaults; None when unknown."""
    folded = fold_label(raw)
    return chosen[folded] if folded in chosen else OUTCOMES.get(folded)


def chosen_outcomes(mapping: dict[str, Any]) -> dict[str, str]:
    values = mapping.get("outcome_values") or {}
    return {
        fold_label(str(k)): OUTCOME_CHOICES[v]
        for k, v in values.items()
        if isinstance(v, str) and v in OUTCOME_CHOICES
    }


# Column names that mean the outcome or the order value (beside the channels' synonyms).
HISTORY_LABELS = {
    **{fold_label(label): OUTCOME for label in (
        "status", "lead status", "outcome", "result", "deal status", "uitkomst", "resultaat",
    )},
    **{fold_label(label): "order_value" for label in (
        "order value", "deal value", "won amount", "orderwaarde", "opdrachtwaarde",
    )},
}  # fmt: skip


@dataclass(frozen=True)
class ImportProgress:
    rows_read: int
    created: int
    duplicates: int
    rejected: int
    fraction: float | None  # of the file read, when it can be known


@dataclass(frozen=True)
class RejectedRow:
    row: int
    reasons: list[dict[str, str]]
    cells: list[str]


@dataclass
class ImportReport:
    """What an import did (or, in a dry run, would do)."""

    filename: str
    sha256: str
    dry_run: bool
    batch_id: int | None = None
    already_imported: bool = False
    headers: list[str] = field(default_factory=list)
    mapping: dict[str, str | None] = field(default_factory=dict)
    rows_read: int = 0
    created: int = 0
    duplicates: int = 0
    rejected: int = 0
    set_aside: int = 0
    ragged_rows: int = 0
    rejected_sample: list[RejectedRow] = field(default_factory=list)
    report_path: str = ""
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "filename": self.filename,
            "sha256": self.sha256,
            "dry_run": self.dry_run,
            "already_imported": self.already_imported,
            "mapping": self.mapping,
            "rows_read": self.rows_read,
            "created": self.created,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "set_aside": self.set_aside,
            "ragged_rows": self.ragged_rows,
            "report_path": self.report_path,
            "seconds": round(self.seconds, 3),
        }


# --- Validation (runs in worker processes) -------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """What a worker needs to turn rows into lead values; pickled once per chunk."""

    headers: list[str]
    mapping: dict[str, Any]
    default_region: str
    default_language: str
    minimum_contact: str = MinimumContact.EMAIL_PHONE_OR_ADDRESS


def validate_rows(rows: list[tuple[int, list[str]]], plan: _Plan) -> list[tuple[Any, ...]]:
    """Map and validate rows into ("ok", row, values, campaign, warnings) or ("rejected", row, why).

    The rules are the HTTP intake's: the source's mapping, then `clean_lead_input`; a value that
    fails is set aside in `extra` (with a warning) as long as what is left meets the source's
    minimum contact, otherwise the row is rejected with every reason (the rejected-rows report
    is where a person reviews them).
    """
    results: list[tuple[Any, ...]] = []
    chosen = chosen_outcomes(plan.mapping)
    for number, cells in rows:
        try:
            candidate = map_record(dict(zip(plan.headers, cells, strict=True)), plan.mapping)
        except MappingError as exc:
            results.append(("rejected", number, [_reason("mapping_error", str(exc))]))
            continue
        data = candidate.lead_input()
        raw_status = str(data.pop(OUTCOME, ""))
        status = outcome_of(raw_status, chosen)
        if status is None:  # another system's stage name: kept on the lead, the lead stays open
            data["extra"] = {**(data.get("extra") or {}), f"invalid.{OUTCOME}": raw_status}
        outcome = _clean(data, plan)
        if outcome[0] == "rejected":
            results.append(("rejected", number, outcome[1]))
            continue
        values, warnings = outcome[1], outcome[2]
        if status is None:
            message = _("Expected won, lost or disqualified (or empty for an open lead).")
            warnings = [*warnings, _reason("set_aside", message, OUTCOME)]
        elif status:
            values["status"] = status
        if not values.get("language") and plan.default_language:
            values["language"] = plan.default_language
        # The derived columns are worked out here, in the worker processes, by the leads
        # function the bulk writer would call itself: it is a good part of a row's cost.
        values.update(derived_values(values))
        results.append(("ok", number, values, candidate.campaign_name, warnings))
    return results


def _reason(code: str, message: str, field: str = "") -> dict[str, str]:
    reason = {"code": code, "message": message}
    if field:
        reason["field"] = field
    return reason


def _clean(data: dict[str, Any], plan: _Plan) -> tuple[Any, ...]:
    rule = plan.minimum_contact
    if not has_minimum_contact(data, rule):
        return ("rejected", [_reason("no_contact", missing_contact_message(rule))])
    values, reasons = clean_keeping_lead(
        data,
        partial(clean_lead_input, default_region=plan.default_region),
        has_contact=partial(has_minimum_contact, rule=rule),
    )
    return ("rejected", reasons) if values is None else ("ok", values, reasons)
