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

Leads are written through `leads.services.insert_new_leads` (set-based) rather than one
`save_new_lead` each, because the ORM path costs about 2 ms a lead (two INSERTs, checks, a
transaction each): a million rows would take half an hour. The rows written and the
`lead_created` events published are the ones `save_new_lead` gives; the validation is the
intake's (`clean_keeping_lead`), and the leads are assessed later by `assess_pending`.
"""

from leadloop.intake.imports.bulk.rows import (
    CHUNK_ROWS,
    HISTORY_LABELS,
    IMPORT_TARGETS,
    INLINE_BELOW_BYTES,
    NOT_FROM_FILES,
    OUTCOME,
    OUTCOME_CHOICES,
    OUTCOMES,
    REPORT_NAME,
    SAMPLE_REJECTS,
    WORKERS,
    ImportProgress,
    ImportReport,
    RejectedRow,
    outcome_of,
    outcome_values_errors,
    validate_rows,
)
from leadloop.intake.imports.bulk.run import import_file, resolve_plan
from leadloop.intake.imports.reader import ImportFileError

__all__ = [
    "CHUNK_ROWS",
    "HISTORY_LABELS",
    "IMPORT_TARGETS",
    "INLINE_BELOW_BYTES",
    "NOT_FROM_FILES",
    "OUTCOME",
    "OUTCOMES",
    "OUTCOME_CHOICES",
    "REPORT_NAME",
    "SAMPLE_REJECTS",
    "WORKERS",
    "ImportFileError",
    "ImportProgress",
    "ImportReport",
    "RejectedRow",
    "import_file",
    "outcome_of",
    "outcome_values_errors",
    "resolve_plan",
    "validate_rows",
]
