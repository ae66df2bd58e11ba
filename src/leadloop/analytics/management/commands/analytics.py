"""`leadloop analytics refresh | verify | rebuild | lag`: the lead facts every report reads
(analytics.services.facts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.analytics.services import alerts, facts, totals, weekly
from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = (
        "The lead facts the reports read: refresh (read the leads changed since the last run, "
        "as the worker does every minute), verify (compare every row with the leads, their "
        "timelines, quotes and clocks, and the day totals with a fresh count; exits 1 on a "
        "difference), rebuild (compute every row and day total again), lag (how long since the "
        "last refresh), alerts (check every alert rule now, "
        "as the worker does every 15 minutes), weekly (send the weekly report e-mails that "
        "fell due, as the worker does every hour)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "action", choices=["refresh", "verify", "rebuild", "lag", "alerts", "weekly"]
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "refresh":
            result = facts.refresh(budget=float("inf"))
            self.emit(
                options,
                {"leads": result.leads, "upto": result.upto},
                f"Computed the facts of {result.leads} lead(s).",
            )
        elif action == "rebuild":
            rows = facts.rebuild()
            self.emit(options, {"rows": rows}, f"Computed the facts of all {rows} lead(s).")
        elif action == "alerts":
            counts = alerts.evaluate()
            self.emit(
                options,
                counts,
                f"Checked {counts['rules']} alert(s): {counts['breached']} started to breach, "
                f"{counts['recovered']} recovered.",
            )
        elif action == "weekly":
            sent = weekly.send_due()
            self.emit(
                options, sent, f"Weekly reports: {sent['sent']} sent, {sent['failed']} failed."
            )
        elif action == "lag":
            lag = facts.lag()
            seconds = None if lag is None else round(lag.total_seconds())
            text = "The facts were never computed." if lag is None else f"{seconds} s behind."
            self.emit(options, {"seconds": seconds}, text)
        else:
            differences = [str(d) for d in facts.verify()] + totals.verify_totals()
            if differences:
                lines = "\n".join(differences[:50])
                raise CommandError(
                    f"{len(differences)} difference(s) between the facts and the leads, or the "
                    f"day totals and the facts (`leadloop analytics rebuild` computes them "
                    f"again):\n{lines}"
                )
            self.emit(
                options, {"differences": 0}, "The facts equal the leads; the day totals the facts."
            )
