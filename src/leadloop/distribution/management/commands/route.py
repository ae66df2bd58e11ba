"""`leadloop route --id N | --pending`: route a waiting lead, or every waiting lead, now."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.core.commands import LeadloopCommand
from leadloop.distribution import selectors, services


class Command(LeadloopCommand):
    help = "Route a sales-ready lead (or every one still waiting) by the rules in force."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--id", type=int, dest="lead_id", help="The lead to route.")
        which.add_argument("--pending", action="store_true", help="Every lead still waiting.")

    def handle(self, *args: Any, **options: Any) -> None:
        if selectors.active_rule_set() is None:
            raise CommandError("No routing rules are published yet: `leadloop rules import`.")
        if options["lead_id"] is not None:
            decision = services.route_lead(options["lead_id"])
            if decision is None:
                raise CommandError(
                    f"Lead {options['lead_id']} is not waiting to be routed (not sales-ready, "
                    "already placed, held or unknown)."
                )
            self.emit(
                options,
                {
                    "lead_id": decision.lead_id,
                    "outcome": decision.outcome,
                    "explanation": decision.explanation,
                },
                f"#{decision.lead_id}: {decision.explanation}",
            )
            return
        ids = services.waiting_ids(undecided_only=False, limit=100_000)
        routed, failed = services.route_many(ids)
        self.emit(
            options,
            {"routed": routed, "failed": failed},
            f"Routed {routed} of {len(ids)} waiting lead(s)."
            + (f" Failed: {', '.join(map(str, failed))}." if failed else ""),
        )
        if failed:
            raise CommandError(f"{len(failed)} lead(s) could not be routed.")
