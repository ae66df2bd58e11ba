"""`leadloop sell --id N [--dry-run] [--floor P]`: sell one lead to the buyers now."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand
from leadloop.distribution.selling.models import Bid
from leadloop.distribution.selling.services import auction, trying


class Command(LeadloopCommand):
    help = "Sell a lead now: an auction among the buyers that may buy it (or a dry run)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--id", type=int, dest="lead_id", required=True, help="The lead.")
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say who would be offered it, at what."
        )
        parser.add_argument("--floor", default="0", help="The lowest price accepted.")
        parser.add_argument("--deadline-ms", type=int, default=auction.DEADLINE_MS)

    def handle(self, *args: Any, **options: Any) -> None:
        lead_id = options["lead_id"]
        if options["dry_run"]:
            found = trying.dry_run(lead_id, by=CLI)
            rows: list[dict[str, Any]] = [
                {
                    "buyer": r.buyer,
                    "price": str(r.price) if r.price else None,
                    "bids": r.pings,
                    "skipped": r.skipped,
                }
                for r in found
            ]
            text = "\n".join(
                f"{r.buyer:<28} "
                + (
                    f"passed over: {r.skipped}"
                    if r.skipped
                    else ("bids" if r.pings else str(r.price))
                )
                for r in found
            )
            self.emit(options, rows, text or "No buyers.")
            return
        try:
            floor = Decimal(options["floor"])
        except InvalidOperation as exc:
            raise CommandError("--floor is an amount, like 12.50.") from exc
        result = auction.sell_lead(lead_id, by=CLI, floor=floor, deadline_ms=options["deadline_ms"])
        bids = Bid.objects.filter(auction=result.auction).select_related("buyer")
        data = {
            "lead_id": lead_id,
            "auction_id": result.auction.pk if result.auction else None,
            "sold_to": [s.buyer.name for s in result.sold],
            "prices": [str(s.price) for s in result.sold],
            "bids": [
                {
                    "buyer": b.buyer.name,
                    "price": str(b.price) if b.price else None,
                    "ms": b.ms,
                    "outcome": b.outcome,
                    "rank": b.rank,
                }
                for b in bids
            ],
            "explanation": result.explanation,
        }
        self.emit(options, data, f"#{lead_id}: {result.explanation}")
        if not result.is_sold:
            raise CommandError(f"Lead {lead_id} was not sold.")
