"""leadloop import-mail FILE.eml|FILE.mbox --source NAME [--json]"""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from leadloop.core.commands import LeadloopCommand
from leadloop.intake.channels.email.ingest import import_mail_file
from leadloop.intake.models import RawSubmission
from leadloop.leads.models import Source


class Command(LeadloopCommand):
    help = "Import lead mails from an .eml file or an mbox file into a source."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("file", help="An .eml file (one message) or an mbox file.")
        parser.add_argument("--source", required=True, help="The source's name (or id).")

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["file"]
        if not os.path.isfile(path):
            raise CommandError(_("No such file: %(path)s") % {"path": path})
        source = _source(options["source"])
        try:
            results = [_summary(s) for s in import_mail_file(path, source=source)]
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc}
            ) from exc
        counts: dict[str, int] = {}
        for result in results:
            for outcome in result["children"] or [result]:
                counts[outcome["state"]] = counts.get(outcome["state"], 0) + 1
        text = "\n".join(
            [
                _("%(n)d message(s) from %(file)s into %(source)s.")
                % {"n": len(results), "file": path, "source": source.name},
                ", ".join(f"{state}: {n}" for state, n in sorted(counts.items())),
            ]
        )
        self.emit(options, {"source": source.name, "messages": results, "counts": counts}, text)


def _source(name: str) -> Source:
    source = Source.objects.filter(name=name).first()
    if source is None and name.isdigit():
        source = Source.objects.filter(pk=int(name)).first()
    if source is None:
        raise CommandError(_("No source named %(name)s.") % {"name": name})
    return source


def _summary(submission: RawSubmission) -> dict[str, Any]:
    return {
        "submission_id": submission.pk,
        "state": submission.state,
        "disposition": submission.disposition,
        "lead_id": submission.lead_id,
        "reasons": submission.reasons,
        "children": [
            {
                "submission_id": child.pk,
                "state": child.state,
                "disposition": child.disposition,
                "lead_id": child.lead_id,
                "reasons": child.reasons,
            }
            for child in submission.children.order_by("pk")
        ],
    }
