"""leadloop import FILE --source NAME [--campaign NAME] [--mapping NAME] [--map COLUMN=FIELD ...]
[--dry-run] [--json]"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.intake.imports.bulk import ImportFileError, ImportProgress, import_file
from leadloop.intake.mapping import TARGETS, validate_mapping
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
        if not sep or not column.strip() or target.strip() not in TARGETS:
            raise CommandError(
                _("--map takes COLUMN=FIELD with a known field, not %(pair)r.") % {"pair": pair}
            )
        fields[column.strip()] = target.strip()
    document["fields"] = fields
    errors = validate_mapping(document)
    if errors:
        raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))
    return document


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
