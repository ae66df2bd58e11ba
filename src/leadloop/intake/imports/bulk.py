"""Batch import: a CSV/TSV/XLSX/XLS/ODS file into the leads of one source, in bulk.

    report = import_file(path, source=source, by=user, progress=print)

The file is copied under LEADLOOP_VAR_DIR/imports/<batch id>/ and its SHA-256 recorded first, so
the original is kept. Rows are then streamed in chunks: a pool of worker processes maps and
validates a chunk (the source's mapping through `intake.mapping.map_record`, then
`leads.services.clean_lead_input` itself, so an import accepts exactly what the HTTP intake
accepts) while this process writes the previous one with raw multi-row inserts (COPY on
PostgreSQL), each lead with its search text and one "created" timeline entry. Memory stays flat:
at most a few chunks are in flight, whatever the file size.

Importing the same file into the same source again creates nothing: the batch is found by the
file's hash. Each lead gets an external reference (the file's id column, or the file hash and the
row number), and rows whose reference already exists for the source are skipped, so an import
that crashed half-way can simply be run again.

Leads are written here rather than through `leads.services.create_lead` because the ORM path
costs about 2 ms a lead (two INSERTs, checks, a transaction each): a million rows would take
half an hour. The rows written are the ones `create_lead` writes.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import multiprocessing
import os
import re
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor, SourceActor, SystemActor
from leadloop.accounts.models import Role, User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake.imports import worker as import_worker
from leadloop.intake.imports.reader import ImportFileError, Table, open_table, suggest_mapping
from leadloop.intake.mapping import (
    EXTRA,
    IGNORE,
    TARGETS,
    MappingError,
    map_record,
)
from leadloop.intake.models import ImportBatch, ImportState
from leadloop.intake.synonyms import fold_label
from leadloop.leads.exports import neutralise
from leadloop.leads.models import (
    Activity,
    ActivityKind,
    ActorKind,
    Campaign,
    Lead,
    LeadStatus,
    Source,
)
from leadloop.leads.normalize import build_search_text
from leadloop.leads.services import clean_lead_input
from leadloop.leads.services.bulk import RawTable

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
# Column names that mean the outcome or the order value (beside the channels' synonyms).
HISTORY_LABELS = {
    **{fold_label(label): OUTCOME for label in (
        "status", "lead status", "outcome", "result", "deal status", "uitkomst", "resultaat",
    )},
    **{fold_label(label): "order_value" for label in (
        "order value", "deal value", "won amount", "orderwaarde", "opdrachtwaarde",
    )},
}  # fmt: skip

__all__ = ["ImportFileError", "ImportProgress", "ImportReport", "RejectedRow", "import_file"]


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


def validate_rows(rows: list[tuple[int, list[str]]], plan: _Plan) -> list[tuple[Any, ...]]:
    """Map and validate rows into ("ok", row, values, campaign, warnings) or ("rejected", row, why).

    The rules are the HTTP intake's: the source's mapping, then `clean_lead_input`; a value that
    fails is set aside in `extra` (with a warning) as long as an e-mail or phone is left,
    otherwise the row is rejected with every reason.
    """
    results: list[tuple[Any, ...]] = []
    for number, cells in rows:
        try:
            candidate = map_record(dict(zip(plan.headers, cells, strict=True)), plan.mapping)
        except MappingError as exc:
            results.append(("rejected", number, [_reason("mapping_error", str(exc))]))
            continue
        data = candidate.lead_input()
        raw_status = str(data.pop(OUTCOME, ""))
        status = OUTCOMES.get(fold_label(raw_status))
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
        values["search_text"] = build_search_text(
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
            email=values.get("email", ""),
            company_name=values.get("company_name", ""),
            phone_e164=values.get("phone_e164", ""),
            phone_raw=values.get("phone_raw", ""),
        )
        results.append(("ok", number, values, candidate.campaign_name, warnings))
    return results


def _reason(code: str, message: str, field: str = "") -> dict[str, str]:
    reason = {"code": code, "message": message}
    if field:
        reason["field"] = field
    return reason


def _clean(data: dict[str, Any], plan: _Plan) -> tuple[Any, ...]:
    if not (data.get("email") or data.get("phone")):
        return ("rejected", [_reason("no_contact", _("Give an e-mail address or a phone number."))])
    warnings: list[dict[str, str]] = []
    for attempt in range(2):
        try:
            return ("ok", clean_lead_input(data, default_region=plan.default_region), warnings)
        except ValidationFailed as exc:
            problems = [
                _reason("invalid", message, name)
                for name, messages in exc.errors.items()
                for message in messages
            ] or [_reason("invalid", exc.detail)]
            kept = {k: v for k, v in data.items() if k not in exc.errors}
            if not exc.errors or attempt or not (kept.get("email") or kept.get("phone")):
                return ("rejected", warnings + problems)
            extra = dict(kept.get("extra") or {})
            for name in exc.errors:
                if name in data:
                    extra[f"invalid.{name}"] = str(data[name])
            data = {**kept, "extra": extra}
            warnings = [{**p, "code": "set_aside"} for p in problems]
    raise AssertionError("unreachable")  # pragma: no cover


class _Inline:
    """The executor interface, run in this process (small files, and no pool to start)."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args))
        return future

    def shutdown(self, *, cancel_futures: bool = False) -> None:
        pass


def _executor(workers: int) -> ProcessPoolExecutor | _Inline:
    if workers < 1:
        return _Inline()
    # spawn, not fork: a forked child would share this process's open database connection.
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=import_worker.init,
        initargs=(
            os.environ.get("DJANGO_SETTINGS_MODULE", "leadloop.settings"),
            translation.get_language() or settings.LANGUAGE_CODE,
        ),
    )


# --- Writing -------------------------------------------------------------------------------------


def _reserve_lead_ids(count: int) -> list[int]:
    """Ids for `count` new leads (PostgreSQL): from the table's own sequence, safe beside others."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [Lead._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _insert_leads(table: RawTable, values: list[dict[str, Any]]) -> list[int]:
    """Insert leads; their ids, in order."""
    if connection.vendor == "postgresql":
        ids = _reserve_lead_ids(len(values))
        table.insert([table.row({**v, "id": pk}) for v, pk in zip(values, ids, strict=True)])
        return ids
    # SQLite: the transaction holds the only write lock, so an AUTOINCREMENT table numbers the
    # rows consecutively, ending at last_insert_rowid() (which triggers leave untouched).
    table.insert([table.row(v) for v in values])
    with connection.cursor() as cursor:
        cursor.execute("SELECT last_insert_rowid()")
        last = cursor.fetchone()[0]
    return list(range(last - len(values) + 1, last + 1))


@dataclass
class _Owner:
    """Who owns the new leads and how the timeline names the importer (as create_lead does)."""

    lead: dict[str, Any]
    activity: dict[str, Any]

    @classmethod
    def of(cls, by: Actor) -> _Owner:
        if isinstance(by, SystemActor):
            return cls({}, {"actor_kind": ActorKind.SYSTEM, "actor_label": by.label})
        if isinstance(by, SourceActor):
            return cls({}, {"actor_kind": ActorKind.SOURCE, "actor_label": by.source_name})
        lead: dict[str, Any] = {"created_by_id": by.pk}
        if by.role == Role.SALES_REP:
            lead.update(assigned_to_id=by.pk, team_id=by.team_id)
        elif by.role == Role.SALES_MANAGER:
            team_id = by.team_id or by.managed_teams.values_list("pk", flat=True).first()
            lead.update(team_id=team_id) if team_id else lead.update(assigned_to_id=by.pk)
        elif by.role == Role.PARTNER:
            lead.update(owner_partner_id=by.partner_id)
        kind = ActorKind.PARTNER if by.role == Role.PARTNER else ActorKind.USER
        return cls(
            lead, {"actor_kind": kind, "actor_user_id": by.pk, "actor_label": by.display_name}
        )


class _Writer:
    """Writes validated chunks: references, duplicates, ids, leads, timeline, report."""

    def __init__(
        self,
        *,
        source: Source,
        campaign: Campaign | None,
        batch: ImportBatch | None,
        sha256: str,
        owner: _Owner,
        headers: list[str],
        report: ImportReport,
        report_file: IO[str] | None,
        dry_run: bool,
    ) -> None:
        self.source = source
        self.campaign = campaign
        self.batch = batch
        self.ref_prefix = f"import:{sha256[:16]}:"
        self.owner = owner
        self.report = report
        self.dry_run = dry_run
        self.leads = RawTable(Lead, with_pk=True)
        self.activities = RawTable(Activity, with_pk=False)
        self.seen_refs: set[str] = set()  # references the file itself gave, to catch repeats
        self.campaigns: dict[str, int | None] = {}
        self.report_file = report_file
        self.report_writer = csv.writer(report_file, quoting=csv.QUOTE_ALL) if report_file else None
        if self.report_writer:
            self.report_writer.writerow([_("row"), _("reasons"), *map(neutralise, headers)])

    def write(self, rows: list[tuple[int, list[str]]], results: list[tuple[Any, ...]]) -> None:
        cells_of = dict(rows)
        accepted: list[tuple[int, dict[str, Any], list[dict[str, str]]]] = []
        for result in results:
            if result[0] == "rejected":
                self._reject(result[1], result[2], cells_of[result[1]])
                continue
            _ok, number, values, campaign_name, warnings = result
            ref = values.get("external_ref") or ""
            if ref:
                if ref in self.seen_refs:
                    reason = _reason(
                        "repeated_ref",
                        _("This reference appears earlier in the file."),
                        "external_ref",
                    )
                    self._reject(number, [reason], cells_of[number])
                    continue
                self.seen_refs.add(ref)
            else:
                values["external_ref"] = f"{self.ref_prefix}{number}"
            values["campaign_id"] = self._campaign_id(campaign_name)
            accepted.append((number, values, warnings))
        existing = self._existing_refs([v["external_ref"] for _n, v, _w in accepted])
        fresh = [item for item in accepted if item[1]["external_ref"] not in existing]
        self.report.duplicates += len(accepted) - len(fresh)
        self.report.set_aside += sum(1 for _n, _v, w in fresh if w)
        self.report.created += len(fresh)
        if self.dry_run or not fresh:
            self._save_counts()
            return
        now = timezone.now()
        lead_values = [
            {
                **self.owner.lead,
                **values,
                "source_id": self.source.pk,
                "created_at": now,
                "updated_at": now,
                **({"status_changed_at": now, "closed_at": now} if "status" in values else {}),
            }
            for _n, values, _w in fresh
        ]
        with transaction.atomic():
            ids = _insert_leads(self.leads, lead_values)
            activity_data = {"source": self.source.name, "import_batch": self.batch_id}
            self.activities.insert(
                [
                    self.activities.row(
                        {
                            **self.owner.activity,
                            "lead_id": pk,
                            "kind": ActivityKind.CREATED,
                            "data": json.dumps(
                                {**activity_data, "row": number}
                                | ({"status": v["status"]} if "status" in v else {})
                            ),
                            "created_at": now,
                        }
                    )
                    for pk, (number, v, _w) in zip(ids, fresh, strict=True)
                ]
            )
            self._save_counts()

    @property
    def batch_id(self) -> int | None:
        return self.batch.pk if self.batch else None

    def _campaign_id(self, name: str) -> int | None:
        if not name:
            return self.campaign.pk if self.campaign else None
        key = name.casefold()
        if key not in self.campaigns:
            found = Campaign.objects.filter(source=self.source, name__iexact=name).first()
            self.campaigns[key] = found.pk if found else None
        return self.campaigns[key] or (self.campaign.pk if self.campaign else None)

    def _existing_refs(self, refs: list[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(refs), 2_000):
            part = refs[start : start + 2_000]
            # exclude(external_ref="") repeats the unique index's condition, so the database
            # can answer from that partial index instead of scanning the source's leads.
            found.update(
                Lead.objects.filter(source=self.source, external_ref__in=part)
                .exclude(external_ref="")
                .values_list("external_ref", flat=True)
            )
        return found

    def _reject(self, number: int, reasons: list[dict[str, str]], cells: list[str]) -> None:
        self.report.rejected += 1
        if len(self.report.rejected_sample) < SAMPLE_REJECTS:
            self.report.rejected_sample.append(RejectedRow(number, reasons, cells))
        if self.report_writer:
            text = "; ".join(
                f"{r['field']}: {r['message']}" if r.get("field") else r["message"] for r in reasons
            )
            self.report_writer.writerow([number, neutralise(text), *map(neutralise, cells)])

    def _save_counts(self) -> None:
        if self.batch is None:
            return
        self.batch.rows_read = self.report.rows_read
        self.batch.rows_created = self.report.created
        self.batch.rows_duplicate = self.report.duplicates
        self.batch.rows_rejected = self.report.rejected
        self.batch.rows_set_aside = self.report.set_aside
        self.batch.save(
            update_fields=[
                "rows_read", "rows_created", "rows_duplicate", "rows_rejected", "rows_set_aside",
            ]
        )  # fmt: skip


# --- The service ---------------------------------------------------------------------------------


def _check_importer(by: Actor, source: Source) -> None:
    if isinstance(by, SystemActor):
        return
    if isinstance(by, SourceActor):
        if by.source_id != source.pk:
            raise NotAllowed(_("This key may only submit leads to its own source."))
        return
    require(by, Permission.IMPORT_LEADS)


def _file_digest(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def _safe_filename(name: str) -> str:
    base = os.path.basename(name.replace("\\", "/")) or "import"
    return re.sub(r"[^\w.\-]+", "_", base)[:120] or "import"


def resolve_plan(
    headers: list[str], *, source: Source, mapping: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, str | None]]:
    """The mapping document for `map_record` and the header → field suggestion shown to people.

    `mapping` is a mapping document like a source's `field_mapping` ("fields", "transforms",
    "value_maps", "constants"); without one the source's own mapping is used. Every header gets
    an explicit target, so rows are mapped without looking synonyms up again.
    """
    document = dict(mapping if mapping is not None else source.field_mapping or {})
    saved = {
        str(k): (None if v in (EXTRA, IGNORE) else v)
        for k, v in (document.get("fields") or {}).items()
    }
    suggestion = suggest_mapping(headers, saved=saved)
    explicit = document.get("fields") or {}
    taken = set(suggestion.values())
    for header, target in suggestion.items():
        history = HISTORY_LABELS.get(fold_label(header))
        if target is None and header not in explicit and history and history not in taken:
            suggestion[header] = history
            taken.add(history)
    fields: dict[str, str] = {}
    for header, target in suggestion.items():
        if explicit.get(header) == IGNORE:
            fields[header] = IGNORE
        elif target and target in IMPORT_TARGETS and target not in NOT_FROM_FILES:
            fields[header] = target
        else:
            fields[header] = EXTRA
            suggestion[header] = None
    document["fields"] = fields
    return document, suggestion


def import_file(
    path: str | os.PathLike[str],
    *,
    source: Source,
    by: Actor = SYSTEM,
    campaign: Campaign | None = None,
    mapping: Mapping[str, Any] | None = None,
    filename: str = "",
    dry_run: bool = False,
    progress: Callable[[ImportProgress], None] | None = None,
    workers: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import a CSV/TSV/XLSX/XLS/ODS file into `source`'s leads; the same file twice adds nothing.

    The original is stored and hashed before a row is read. A dry run reads and validates every
    row and writes nothing at all. ImportFileError when the file cannot be read as a table.
    """
    began = time.perf_counter()
    _check_importer(by, source)
    if campaign is not None and campaign.source_id != source.pk:
        raise ValidationFailed(
            _("The campaign belongs to another source."),
            errors={"campaign": [_("This campaign belongs to another source.")]},
        )
    original = Path(path)
    filename = filename or original.name
    sha256, size = _file_digest(original)
    report = ImportReport(filename=filename, sha256=sha256, dry_run=dry_run)
    batch: ImportBatch | None = None
    readable = original
    if not dry_run:
        batch, created = _start_batch(source, campaign, by, filename, sha256, size)
        report.batch_id = batch.pk
        if not created and batch.state == ImportState.DONE:
            return _already_imported(report, batch, began)
        readable = _keep_original(batch, original, filename)
    try:
        _run(
            readable,
            report=report,
            batch=batch,
            source=source,
            campaign=campaign,
            by=by,
            mapping=mapping,
            filename=filename,
            dry_run=dry_run,
            progress=progress,
            workers=workers
            if workers is not None
            else (WORKERS if size >= INLINE_BELOW_BYTES else 0),
            chunk_rows=chunk_rows,
        )
    except Exception as exc:
        if batch is not None:
            batch.state = ImportState.FAILED
            batch.message = str(exc)[:2000]
            batch.finished_at = timezone.now()
            batch.save(update_fields=["state", "message", "finished_at"])
        raise
    report.seconds = time.perf_counter() - began
    logger.info(
        "import done batch=%s rows=%d created=%d duplicates=%d rejected=%d seconds=%.1f",
        report.batch_id, report.rows_read, report.created, report.duplicates, report.rejected,
        report.seconds,
    )  # fmt: skip
    return report


def _start_batch(
    source: Source,
    campaign: Campaign | None,
    by: Actor,
    filename: str,
    sha256: str,
    size: int,
) -> tuple[ImportBatch, bool]:
    existing = ImportBatch.objects.filter(source=source, file_sha256=sha256).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            batch = ImportBatch.objects.create(
                source=source,
                campaign=campaign,
                filename=filename[:255],
                file_sha256=sha256,
                size_bytes=size,
                created_by=by if isinstance(by, User) else None,
                started_at=timezone.now(),
            )
    except IntegrityError:
        return ImportBatch.objects.get(source=source, file_sha256=sha256), False
    return batch, True


def _keep_original(batch: ImportBatch, original: Path, filename: str) -> Path:
    folder = Path(settings.VAR_DIR) / "imports" / str(batch.pk)
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / _safe_filename(filename)
    if not kept.exists():
        partial = kept.with_name(kept.name + ".part")
        shutil.copyfile(original, partial)
        partial.replace(kept)
    relative = str(kept.relative_to(Path(settings.VAR_DIR)))
    if batch.stored_path != relative or batch.state != ImportState.RUNNING:
        batch.stored_path = relative
        batch.state = ImportState.RUNNING
        batch.save(update_fields=["stored_path", "state"])
    return kept


def _already_imported(report: ImportReport, batch: ImportBatch, began: float) -> ImportReport:
    report.already_imported = True
    report.mapping = dict(batch.mapping or {})
    report.rows_read = batch.rows_read
    report.duplicates = batch.rows_read - batch.rows_rejected
    report.seconds = time.perf_counter() - began
    return report


def _chunks(
    rows: Iterable[tuple[int, list[str]]], size: int
) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run(
    readable: Path,
    *,
    report: ImportReport,
    batch: ImportBatch | None,
    source: Source,
    campaign: Campaign | None,
    by: Actor,
    mapping: Mapping[str, Any] | None,
    filename: str,
    dry_run: bool,
    progress: Callable[[ImportProgress], None] | None,
    workers: int,
    chunk_rows: int,
) -> None:
    size = readable.stat().st_size or 1
    with readable.open("rb") as handle, open_table(handle, filename=filename) as table:
        document, suggestion = resolve_plan(table.headers, source=source, mapping=mapping)
        report.headers, report.mapping = table.headers, suggestion
        plan = _Plan(
            headers=table.headers,
            mapping=document,
            default_region=source.default_country or settings.LEADLOOP_DEFAULT_COUNTRY,
            default_language=source.default_language,
        )
        report_file = None
        if batch is not None:
            batch.mapping = suggestion
            batch.save(update_fields=["mapping"])
            report_path = Path(settings.VAR_DIR) / "imports" / str(batch.pk) / REPORT_NAME
            report_file = report_path.open("w", encoding="utf-8-sig", newline="")
        try:
            writer = _Writer(
                source=source,
                campaign=campaign,
                batch=batch,
                sha256=report.sha256,
                owner=_Owner.of(by),
                headers=table.headers,
                report=report,
                report_file=report_file,
                dry_run=dry_run,
            )
            _pipeline(table, handle, size, plan, writer, report, progress, workers, chunk_rows)
        finally:
            if report_file is not None:
                report_file.close()
        report.ragged_rows = table.ragged_rows
    if batch is not None:
        if report.rejected:
            report.report_path = str(report_path)
        else:
            report_path.unlink(missing_ok=True)
        batch.state = ImportState.DONE
        batch.finished_at = timezone.now()
        if table.ragged_rows:
            examples = ", ".join(f"{n} ({c})" for n, c in table.ragged_examples)
            batch.message = _(
                "%(count)d rows had more or fewer cells than the header and were padded or "
                "trimmed; rows (cells): %(examples)s"
            ) % {"count": table.ragged_rows, "examples": examples}
        batch.save(update_fields=["state", "finished_at", "message"])


def _pipeline(
    table: Table,
    handle: IO[bytes],
    size: int,
    plan: _Plan,
    writer: _Writer,
    report: ImportReport,
    progress: Callable[[ImportProgress], None] | None,
    workers: int,
    chunk_rows: int,
) -> None:
    """Workers validate chunk n+1.. while this process writes chunk n; a few chunks in flight."""
    executor = _executor(workers)
    pending: deque[tuple[list[tuple[int, list[str]]], Future[Any]]] = deque()
    last_row = table.last_row

    def drain_one() -> None:
        rows, future = pending.popleft()
        writer.write(rows, future.result())
        if progress is not None:
            if table.format == "csv":
                fraction: float | None = min(handle.tell() / size, 1.0)
            else:
                fraction = min(rows[-1][0] / last_row, 1.0) if last_row else None
            progress(
                ImportProgress(
                    report.rows_read, report.created, report.duplicates, report.rejected, fraction
                )
            )

    try:
        for chunk in _chunks(table.numbered_rows(), chunk_rows):
            report.rows_read += len(chunk)
            pending.append((chunk, executor.submit(import_worker.validate, chunk, plan)))
            if len(pending) > max(workers, 1):
                drain_one()
        while pending:
            drain_one()
    finally:
        executor.shutdown(cancel_futures=True)
