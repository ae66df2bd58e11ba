"""leadloop import FILE --source NAME [--campaign NAME] [--mapping NAME] [--map COLUMN=FIELD ...]
[--won VALUE ...] [--lost VALUE ...] [--disqualified VALUE ...] [--open VALUE ...]
[--dry-run] [--json]

`--map Status=status` makes a column the outcome of leads from another system; `--won
"Closed - Converted"` (and --lost, --disqualified, --open) says what its values mean.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.intake.imports.bulk import (
    OUTCOME,
    OUTCOME_CHOICES,
    ImportFileError,
    ImportProgress,
    import_file,
    resolve_plan,
)
from leadloop.intake.imports.reader import open_table
from leadloop.intake.imports.services import CHOOSABLE
from leadloop.intake.mapping import validate_mapping
from leadloop.leads.models import Campaign, Source


class Command(LeadloopCommand):
    help = "Import leads from a CSV, TSV, XLSX, XLS or ODS file into a source."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("file", help="The file to import.")
        parser.add_argument("--source", required=True, help="The source's name (or id).")
        parser.add_argument("--campaign", default="", help="A campaign of that source, by name.")
        parser.add_argument(
            "--mapping",
            default="",
            help="Use the saved field mapping of this source (by name) instead of the target's.",
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="Map a column to a lead field (or extra / ignore); may be repeated.",
        )
        for choice in OUTCOME_CHOICES:
            parser.add_argument(
                f"--{choice}",
                action="append",
                default=[],
                metavar="VALUE",
                help=f"A value of the outcome column (--map COLUMN=status) that means {choice}; "
                "may be repeated.",
            )
        parser.add_argument("--dry-run", action="store_true", help="Validate, write nothing.")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        source = _source(options["source"])
        campaign = None
        if options["campaign"]:
            campaign = Campaign.objects.filter(
                source=source, name__iexact=options["campaign"]
            ).first()
            if campaign is None:
                raise CommandError(
                    _("Source %(source)s has no campaign named %(name)s.")
                    % {"source": source.name, "name": options["campaign"]}
                )
        mapping = _mapping(source, options["mapping"], options["map"])
        chosen = {value: choice for choice in OUTCOME_CHOICES for value in options[choice]}
        if chosen:
            if OUTCOME not in mapping["fields"].values() and not _has_outcome_column(path, source):
                raise CommandError(
                    _(
                        "--won, --lost, --disqualified and --open need an outcome column: "
                        "add --map COLUMN=status."
                    )
                )
            mapping["outcome_values"] = chosen
        bar = _ProgressBar() if not options["json"] else None
        try:
            report = import_file(
                path,
                source=source,
                by=SYSTEM,
                campaign=campaign,
                mapping=mapping,
                dry_run=options["dry_run"],
                progress=bar,
            )
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if bar is not None:
                bar.done()
        lines = [
            _("Already imported as batch %(id)s; nothing to do.") % {"id": report.batch_id}
            if report.already_imported
            else _(
                "%(read)d rows read: %(created)d leads created, %(duplicates)d duplicates "
                "skipped, %(rejected)d rejected (%(seconds).1f s)."
            )
            % {
                "read": report.rows_read,
                "created": report.created,
                "duplicates": report.duplicates,
                "rejected": report.rejected,
                "seconds": report.seconds,
            }
        ]
        if options["dry_run"]:
            lines.append(_("Dry run: nothing was written."))
        unmapped = [h for h, f in report.mapping.items() if f is None]
        if unmapped:
            lines.append(_("Kept in extra fields: %(columns)s") % {"columns": ", ".join(unmapped)})
        if report.report_path:
            lines.append(_("Rejected rows: %(path)s") % {"path": report.report_path})
        self.emit(options, report.as_dict(), "\n".join(lines))


def _source(name: str) -> Source:
    source = Source.objects.filter(name=name).first()
    if source is None and name.isdigit():
        source = Source.objects.filter(pk=int(name)).first()
    if source is None:
        raise CommandError(_("No source named %(name)s.") % {"name": name})
    return source


def _mapping(source: Source, saved: str, pairs: list[str]) -> dict[str, Any]:
    document = dict((_source(saved) if saved else source).field_mapping or {})
    fields = dict(document.get("fields") or {})
    for pair in pairs:
        column, sep, target = pair.partition("=")
        if not sep or not column.strip() or target.strip() not in CHOOSABLE:
            raise CommandError(
                _("--map takes COLUMN=FIELD with a known field, not %(pair)r.") % {"pair": pair}
            )
        fields[column.strip()] = target.strip()
    document["fields"] = fields
    errors = validate_mapping(document, targets=CHOOSABLE)
    if errors:
        raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
    return document


def _has_outcome_column(path: str, source: Source) -> bool:
    """Whether the file has a column the import reads as the outcome by its name ("Status")."""
    try:
        with open_table(path, filename=os.path.basename(path)) as table:
            document, _suggestion = resolve_plan(table.headers, source=source, mapping=None)
    except ImportFileError as exc:
        raise CommandError(str(exc)) from exc
    return OUTCOME in document["fields"].values()


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn at most a few times a second."""

    def __init__(self) -> None:
        self.last = 0.0
        self.drawn = False

    def __call__(self, p: ImportProgress) -> None:
        now = time.monotonic()
        if now - self.last < 0.2:
            return
        self.last = now
        width = 30
        filled = int(width * (p.fraction or 0))
        bar = "#" * filled + "-" * (width - filled)
        share = f"{p.fraction:4.0%}" if p.fraction is not None else "   ?"
        sys.stderr.write(
            f"\r[{bar}] {share} {p.rows_read:,} rows, {p.created:,} new, {p.rejected:,} rejected"
        )
        sys.stderr.flush()
        self.drawn = True

    def done(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
