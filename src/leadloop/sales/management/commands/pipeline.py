"""`leadloop pipeline verify | rebuild | fold`: the whole floor's pipeline totals, which the
database keeps with every change to a lead or quote (sales.services.tally)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.core.commands import LeadloopCommand
from leadloop.sales.services import tally


class Command(LeadloopCommand):
    help = (
        "The whole floor's pipeline totals: verify (compare them with the leads; exits 1 on a "
        "difference), rebuild (fill them again from the leads), fold (add up the rows the "
        "database wrote, as the worker does every minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["verify", "rebuild", "fold"])

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "rebuild":
            keys = tally.rebuild()
            self.emit(options, {"keys": keys}, f"Totals filled again from the leads: {keys} keys.")
        elif action == "fold":
            rows = tally.fold()
            self.emit(options, {"rows": rows}, f"Folded {rows} rows.")
        else:
            differences = tally.verify()
            if differences:
                lines = "\n".join(str(difference) for difference in differences[:50])
                raise CommandError(
                    f"{len(differences)} difference(s) between the totals and the leads "
                    f"(`leadloop pipeline rebuild` fills them again):\n{lines}"
                )
            self.emit(options, {"differences": 0}, "The totals equal the leads.")
