"""leadloop reassess [--id N ...] [--status S ...] [--source NAME] [--since DATE] [--all]"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services
from leadloop.core.commands import LeadloopCommand
from leadloop.leads import selectors
from leadloop.leads.models import Lead, LeadStatus


class Command(LeadloopCommand):
    help = "Assess leads again with today's rules: by id, status, source or date, or all."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--id", type=int, action="append", default=[], dest="ids")
        parser.add_argument("--status", action="append", default=[], choices=LeadStatus.values)
        parser.add_argument("--source", metavar="NAME", help="Only leads of this source.")
        parser.add_argument("--since", type=dt.date.fromisoformat, help="Created on or after.")
        parser.add_argument("--all", action="store_true", help="Every lead (may take a while).")

    def handle(self, *args: Any, **options: Any) -> None:
        leads = Lead.objects.filter(merged_into__isnull=True)
        if options["ids"]:
            leads = leads.filter(pk__in=options["ids"])
        if options["status"]:
            leads = leads.filter(status__in=options["status"])
        if options["source"]:
            leads = leads.filter(source=selectors.get_source_by_name(SYSTEM, options["source"]))
        if options["since"]:
            leads = leads.filter(created_at__date__gte=options["since"])
        chosen = options["ids"] or options["status"] or options["source"] or options["since"]
        if not (chosen or options["all"]):
            raise CommandError(_("Say which leads (--id, --status, --source, --since) or --all."))
        ids = list(leads.order_by("pk").values_list("pk", flat=True))
        if options["ids"] and len(ids) < len(set(options["ids"])):
            missing = sorted(set(options["ids"]) - set(ids))
            raise CommandError(
                _("No lead with id %(ids)s.") % {"ids": ", ".join(map(str, missing))}
            )
        done = services.reassess_leads(ids, by=SYSTEM)
        self.emit(options, {"assessed": done}, _("%(n)d leads assessed.") % {"n": done})
