"""leadloop enrich LEAD_ID... | --all-missing   (run the HTTP enrichment providers now)"""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from leadloop.assessment import enrichment
from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = "Run the active HTTP enrichment providers for some leads now."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("lead_ids", nargs="*", type=int, metavar="LEAD_ID")
        parser.add_argument(
            "--all-missing",
            action="store_true",
            help="Every lead with an empty field that an active provider can fill.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        ids = options["lead_ids"]
        if options["all_missing"]:
            ids = [*ids, *enrichment.list_leads_missing_appendable()]
        if not ids:
            raise CommandError(_("Give lead ids or --all-missing."))
        filled = failed = 0
        for lead_id in dict.fromkeys(ids):
            run = enrichment.enrich_stored_lead(lead_id)
            filled += sum(len(o.filled) for o in run.outcomes)
            failed += sum(1 for o in run.outcomes if o.error)
        self.emit(
            options,
            {"leads": len(set(ids)), "fields_filled": filled, "failures": failed},
            _("%(leads)d leads, %(filled)d fields filled, %(failed)d provider failures.")
            % {"leads": len(set(ids)), "filled": filled, "failed": failed},
        )
