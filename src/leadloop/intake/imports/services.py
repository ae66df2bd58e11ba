"""Batch import from the UI and the API: upload, confirm the mapping, import in the background.

    batch = store_upload(file, filename="leads.csv", source=source, by=user)   # kept, PENDING
    preview = preview_batch(batch)                                              # header + 5 rows
    start_batch(batch, fields={"Voornaam": "first_name", ...}, by=user)        # QUEUED, enqueued
    run_batch(batch.pk)                                                         # in the worker

The upload is stored and hashed before anything is read, as `importing.import_file` does, and the
worker imports that stored copy through `import_file` itself. The worker is another process, so
progress is written to the ImportBatch row as chunks finish and the pages poll that row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import logging
import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.models import User
from leadloop.core import retry
from leadloop.errors import InvalidTransition, ValidationFailed
from leadloop.intake.imports.bulk import (
    IMPORT_TARGETS,
    INLINE_BELOW_BYTES,
    NOT_FROM_FILES,
    OUTCOME_CHOICES,
    REPORT_NAME,
    ImportProgress,
    import_file,
    outcome_of,
    outcome_values_errors,
    resolve_plan,
)
from leadloop.intake.imports.bulk.rows import MAX_OUTCOME_VALUES
from leadloop.intake.imports.bulk.run import _check_importer, _safe_filename
from leadloop.intake.imports.reader import ImportFileError, open_table
from leadloop.intake.mapping import EXTRA, IGNORE
from leadloop.intake.models import ImportBatch, ImportState
from leadloop.intake.synonyms import fold_label
from leadloop.leads.models import Campaign, Source

logger = logging.getLogger(__name__)

SAMPLE_ROWS = 5
# A dry run on the confirm page reads the whole file in the request; only for small files.
DRY_RUN_BELOW_BYTES = 500_000
CHOOSABLE = frozenset(IMPORT_TARGETS - NOT_FROM_FILES) | {EXTRA, IGNORE}


class FileTooLarge(ValidationFailed):
    status = 413
    title = "Content too large"


@dataclass(frozen=True)
class BatchPreview:
    """The header of a stored upload, what each column would map to, and its first rows."""

    headers: list[str]
    suggested: dict[str, str]  # header → target, EXTRA when nothing fits
    samples: dict[str, list[str]]  # header → its first values
    dry_run: dict[str, int] | None  # counts a dry run found, for small files


def _imports_dir() -> Path:
    return Path(settings.VAR_DIR) / "imports"


def store_upload(
    upload: IO[bytes],
    *,
    filename: str,
    source: Source,
    by: Actor,
    campaign: Campaign | None = None,
) -> ImportBatch:
    """Keep an uploaded file as a PENDING batch; the same file for the same source finds its batch.

    The bytes are streamed to disk and hashed on the way, so a large upload never sits in memory.
    """
    _check_importer(by, source)
    if campaign is not None and campaign.source_id != source.pk:
        raise ValidationFailed(
            _("The campaign belongs to another source."),
            errors={"campaign": [_("This campaign belongs to another source.")]},
        )
    incoming = _imports_dir() / "incoming"
    incoming.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    limit = settings.LEADLOOP_IMPORT_MAX_BYTES
    with tempfile.NamedTemporaryFile(dir=incoming, delete=False) as spool:
        while (block := upload.read(1024 * 1024)) and size <= limit:
            digest.update(block)
            size += len(block)
            spool.write(block)
    spooled = Path(spool.name)
    try:
        if size > limit:
            message = _("The file is larger than %(limit)d MB.") % {"limit": limit // 1_000_000}
            raise FileTooLarge(message, errors={"file": [message]})
        if not size:
            raise ValidationFailed(
                _("The file is empty."), errors={"file": [_("The file is empty.")]}
            )
        sha256 = digest.hexdigest()
        existing = ImportBatch.objects.filter(source=source, file_sha256=sha256).first()
        if existing is not None:
            return existing
        try:
            with transaction.atomic():
                batch = ImportBatch.objects.create(
                    source=source,
                    campaign=campaign,
                    filename=(filename or "import")[:255],
                    file_sha256=sha256,
                    size_bytes=size,
                    state=ImportState.PENDING,
                    created_by=by if isinstance(by, User) else None,
                    started_at=timezone.now(),
                )
        except IntegrityError:
            return ImportBatch.objects.get(source=source, file_sha256=sha256)
        folder = _imports_dir() / str(batch.pk)
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / _safe_filename(batch.filename)
        shutil.move(spooled, kept)
        batch.stored_path = str(kept.relative_to(Path(settings.VAR_DIR)))
        batch.save(update_fields=["stored_path"])
        return batch
    finally:
        spooled.unlink(missing_ok=True)


def stored_file(batch: ImportBatch) -> Path:
    """Where the original of a batch is kept."""
    return Path(settings.VAR_DIR) / batch.stored_path


def rejected_report(batch: ImportBatch) -> Path | None:
    """The CSV of rejected rows (row number, reasons, the cells), when the import rejected any."""
    path = _imports_dir() / str(batch.pk) / REPORT_NAME
    return path if batch.rows_rejected and path.is_file() else None


def preview_batch(batch: ImportBatch) -> BatchPreview:
    """The header, the suggested target per column and the first rows; ImportFileError if not.

    Suggestions come from the source's saved mapping first, then the English/Dutch synonyms.
    """
    path = stored_file(batch)
    with open_table(path, filename=batch.filename) as table:
        headers = table.headers
        rows = list(itertools.islice(table.rows(), SAMPLE_ROWS))
    samples = {h: [row[i] for row in rows] for i, h in enumerate(headers)}
    dry_run = None
    if batch.size_bytes < min(DRY_RUN_BELOW_BYTES, INLINE_BELOW_BYTES):
        report = import_file(
            path, source=batch.source, campaign=batch.campaign, filename=batch.filename,
            dry_run=True, workers=0,
        )  # fmt: skip
        dry_run = {"rows": report.rows_read, "ok": report.created, "rejected": report.rejected}
    return BatchPreview(headers, _suggest(headers, batch.source), samples, dry_run)


def _suggest(headers: list[str], source: Source) -> dict[str, str]:
    document, _suggestion = resolve_plan(headers, source=source, mapping=None)
    return dict(document["fields"])


def upload_and_start(
    upload: IO[bytes],
    *,
    filename: str,
    source: Source,
    by: Actor,
    campaign: Campaign | None = None,
    fields: dict[str, str] | None = None,
    outcome_values: dict[str, str] | None = None,
) -> ImportBatch:
    """Store an upload and queue its import at once (the API): `fields` or the suggested columns.

    A file already imported into the source is returned as it is; nothing is queued again.
    """
    errors = outcome_values_errors(outcome_values)
    if errors:
        raise ValidationFailed(_("The mapping is not valid."), errors=errors)
    batch = store_upload(upload, filename=filename, source=source, by=by, campaign=campaign)
    if not batch.can_start:
        return batch
    suggested = suggested_fields(batch)
    chosen = {h: (fields or {}).get(h) or target for h, target in suggested.items()}
    return start_batch(batch, fields=chosen, outcome_values=outcome_values, by=by)


def start_batch(
    batch: ImportBatch,
    *,
    fields: dict[str, str],
    by: Actor,
    outcome_values: dict[str, str] | None = None,
) -> ImportBatch:
    """Confirm a PENDING batch's column targets and queue its import (enqueued after commit).

    `fields` is header → target, "extra" (kept on the lead) or "ignore". `outcome_values` says
    what the outcome column's values mean ({"Closed - Converted": "won", ...}: won, lost,
    disqualified or open); values it does not name are read as `OUTCOMES` reads them. A failed
    batch can be started again; a queued, running or finished one cannot.
    """
    _check_importer(by, batch.source)
    errors = {
        header: [_("Choose a lead field, “extra” or “ignore”.")]
        for header, target in fields.items()
        if target not in CHOOSABLE
    }
    errors.update(outcome_values_errors(outcome_values))
    if errors:
        raise ValidationFailed(_("The mapping is not valid."), errors=errors)
    with transaction.atomic():
        locked = ImportBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.state not in (ImportState.PENDING, ImportState.FAILED):
            raise InvalidTransition(_("This import has already started."))
        locked.mapping = {"fields": dict(fields)}
        if outcome_values:
            locked.mapping["outcome_values"] = dict(outcome_values)
        locked.state = ImportState.QUEUED
        locked.progress = 0
        locked.message = ""
        if isinstance(by, User):
            locked.created_by = by
        locked.save(update_fields=["mapping", "state", "progress", "message", "created_by"])
        transaction.on_commit(
            partial(retry.enqueue, "leadloop.intake.tasks.import_file_task", batch_id=locked.pk)
        )
    return locked


# Matches core.tasks.STALLED_AFTER, after which the worker requeues a task that never finished.
STALLED_AFTER = dt.timedelta(minutes=30)


def run_batch(batch_id: int, *, by: Actor | None = None) -> ImportBatch:
    """Import the stored copy of a QUEUED batch, writing progress to its row as chunks finish.

    `by` defaults to the person who started it. Safe to run twice: a batch that is not queued
    (or failed, on a retry) is returned untouched. A file that cannot be read leaves the batch
    FAILED with the reason and does not raise, since reading it again will not help.
    """
    with transaction.atomic():
        batch = (
            ImportBatch.objects.select_for_update(of=("self",))
            .select_related("source", "campaign", "created_by")
            .get(pk=batch_id)
        )
        # A batch still RUNNING long after it started lost its worker mid-import (the core's
        # stalled-task sweep requeues such tasks after 30 minutes): resume it. Rows already
        # written are recognised by their references and skipped, so nothing is imported twice.
        stalled = (
            batch.state == ImportState.RUNNING and batch.started_at < timezone.now() - STALLED_AFTER
        )
        if batch.state not in (ImportState.QUEUED, ImportState.FAILED) and not stalled:
            return batch
        batch.state = ImportState.RUNNING
        batch.started_at = timezone.now()
        batch.save(update_fields=["state", "started_at"])
    actor = by or batch.created_by or SYSTEM
    try:
        import_file(
            stored_file(batch),
            source=batch.source,
            by=actor,
            campaign=batch.campaign,
            mapping=_mapping_document(batch),
            filename=batch.filename,
            progress=partial(_write_progress, batch.pk),
        )
    except ImportFileError:
        logger.info("import failed batch=%s reason=unreadable", batch.pk)
    batch.refresh_from_db()
    if batch.state == ImportState.DONE and batch.progress != 100:
        batch.progress = 100
        batch.save(update_fields=["progress"])
    return batch


def _mapping_document(batch: ImportBatch) -> dict[str, Any]:
    """The source's mapping (transforms, value maps, constants) with the confirmed columns."""
    document = dict(batch.source.field_mapping or {})
    fields = (batch.mapping or {}).get("fields")
    if isinstance(fields, dict):
        document["fields"] = fields
    outcome_values = (batch.mapping or {}).get("outcome_values")
    if isinstance(outcome_values, dict):
        document["outcome_values"] = outcome_values
    return document


@dataclass(frozen=True)
class OutcomeValue:
    value: str
    rows: int
    choice: str  # what it will be read as: won, lost, disqualified, open, or "" (set aside)


# The outcome column's values are counted in this many rows at most: a CRM's stages are few,
# and the import itself sets aside whatever value comes later that nobody chose a meaning for.
OUTCOME_SCAN_ROWS = 100_000


def read_outcome_values(
    batch: ImportBatch, column: str, *, chosen: dict[str, str] | None = None
) -> list[OutcomeValue]:
    """The distinct values of a stored upload's outcome column, most frequent first.

    Each comes with what the import would read it as: the person's choice, else the default
    reading of "won", "closed lost", "gewonnen" and the like, else "" (kept as an extra field,
    the lead stays open). At most MAX_OUTCOME_VALUES values; ImportFileError if unreadable.
    """
    counts: dict[str, int] = {}
    with open_table(stored_file(batch), filename=batch.filename) as table:
        if column not in table.headers:
            return []
        index = table.headers.index(column)
        for row in itertools.islice(table.rows(), OUTCOME_SCAN_ROWS):
            value = (row[index] if index < len(row) else "").strip()
            if value in counts or len(counts) < MAX_OUTCOME_VALUES:
                counts[value] = counts.get(value, 0) + 1
    picked = {fold_label(k): v for k, v in (chosen or {}).items() if v in OUTCOME_CHOICES}
    by_status = {status: name for name, status in OUTCOME_CHOICES.items()}
    result = []
    for value, rows in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        status = outcome_of(value, {})
        choice = picked.get(fold_label(value)) or (by_status[status] if status is not None else "")
        result.append(OutcomeValue(value, rows, choice))
    return result


def _write_progress(batch_id: int, progress: ImportProgress) -> None:
    if progress.fraction is None:
        return
    ImportBatch.objects.filter(pk=batch_id).update(progress=min(int(progress.fraction * 100), 99))


def suggested_fields(batch: ImportBatch) -> dict[str, str]:
    """Header → suggested target of a stored upload, in column order (reads only its header)."""
    with open_table(stored_file(batch), filename=batch.filename) as table:
        return _suggest(list(table.headers), batch.source)
