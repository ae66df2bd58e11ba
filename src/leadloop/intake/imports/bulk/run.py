"""The import service: check the importer, start the batch, run the chunks through the workers."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import re
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor, SourceActor, SystemActor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import get_defaults
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake.imports import worker as import_worker
from leadloop.intake.imports.bulk.rows import (
    CHUNK_ROWS,
    HISTORY_LABELS,
    IMPORT_TARGETS,
    INLINE_BELOW_BYTES,
    NOT_FROM_FILES,
    REPORT_NAME,
    WORKERS,
    ImportProgress,
    ImportReport,
    _Plan,
)
from leadloop.intake.imports.bulk.writer import _Writer
from leadloop.intake.imports.reader import Table, open_table, suggest_mapping
from leadloop.intake.mapping import (
    EXTRA,
    IGNORE,
)
from leadloop.intake.models import ImportBatch, ImportState
from leadloop.intake.synonyms import fold_label
from leadloop.leads.models import (
    Campaign,
    Source,
)

logger = logging.getLogger(__name__)


# --- The service ---------------------------------------------------------------------------------


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
            default_region=source.default_country or get_defaults().country,
            default_language=source.default_language,
            minimum_contact=source.minimum_contact,
        )
        report_file = None
        if batch is not None:
            # What the rows are read with, in the shape `start_batch` stores: a resumed or
            # retried batch reads its rows the same way again.
            batch.mapping = {"fields": dict(document["fields"])}
            if document.get("outcome_values"):
                batch.mapping["outcome_values"] = dict(document["outcome_values"])
            batch.save(update_fields=["mapping"])
            report_path = Path(settings.VAR_DIR) / "imports" / str(batch.pk) / REPORT_NAME
            report_file = report_path.open("w", encoding="utf-8-sig", newline="")
        try:
            writer = _Writer(
                source=source,
                campaign=campaign,
                batch=batch,
                sha256=report.sha256,
                owner=by,
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
