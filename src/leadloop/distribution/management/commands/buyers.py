"""`leadloop buyers list | test | statement | verify`: the lead buyers from the command line."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand
from leadloop.distribution.selling import selectors
from leadloop.distribution.selling.services import trying


class Command(LeadloopCommand):
    help = "Lead buyers: list, test, statement, verify, batch, login BUYER USERNAME."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="Every buyer with its price, balance and sales.")
        test = sub.add_parser("test", help="What a buyer receives for a lead (and send it).")
        test.add_argument("buyer", help="Buyer id or name.")
        test.add_argument("--lead", type=int, required=True, help="A real lead to show it with.")
        test.add_argument("--send", action="store_true", help="Post it, marked as a test.")
        statement = sub.add_parser("statement", help="A buyer's monthly statement (CSV).")
        statement.add_argument("buyer", help="Buyer id or name.")
        statement.add_argument("--month", help="YYYY-MM; this month by default.")
        sub.add_parser("verify", help="Check each balance against the sum of its ledger.")
        batch = sub.add_parser("batch", help="Send a day's CSV to the buyer's SFTP server now.")
        batch.add_argument("buyer", help="Buyer id or name.")
        batch.add_argument("--day", help="YYYY-MM-DD; yesterday by default.")
        batch.add_argument("--again", action="store_true", help="Send it even if it went.")
        login = sub.add_parser("login", help="Let a user (role buyer) into a buyer's portal.")
        login.add_argument("buyer", help="Buyer id or name.")
        login.add_argument("username")

    def _buyer(self, text: str) -> Any:
        found = selectors.list_buyers(CLI)
        buyer = found.filter(pk=int(text)).first() if text.isdigit() else None
        buyer = buyer or found.filter(name__iexact=text).first()
        if buyer is None:
            raise CommandError(f"No buyer {text!r}: `leadloop buyers list` shows them.")
        return buyer

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            buyers = list(selectors.list_buyers(CLI))
            stats = selectors.buyer_stats(buyers)
            rows = [
                {
                    "id": b.pk,
                    "name": b.name,
                    "active": b.is_active,
                    "price": str(b.price),
                    "currency": b.currency,
                    "balance": str(b.balance),
                    "delivery": b.method,
                    "pings": b.pings,
                    "sold_today": stats[b.pk]["today"],
                    "sold": stats[b.pk]["total"],
                    "return_rate": stats[b.pk]["return_rate"],
                }
                for b in buyers
            ]
            text = "\n".join(
                f"{r['id']:>4}  {r['name']:<28} {r['price']:>8} {r['currency']}  "
                f"balance {r['balance']:>10}  {r['delivery']:<5} "
                f"{'bids ' if r['pings'] else ''}sold {r['sold']} (today {r['sold_today']})"
                + ("" if r["active"] else "  [paused]")
                for r in rows
            )
            self.emit(options, rows, text or "No buyers yet.")
        elif action == "test":
            buyer = self._buyer(options["buyer"])
            shown = trying.preview(buyer.pk, options["lead"], by=CLI, send=options["send"])
            data = {
                "content_type": shown.content_type,
                "body": shown.body,
                "ping": shown.ping,
                "sent": shown.sent,
                "outcome": shown.outcome,
                "reason": shown.reason,
                "status": shown.status,
            }
            text = f"Content-Type: {shown.content_type}\n\n{shown.body}"
            if shown.ping:
                text += f"\n\nPing:\n{shown.ping}"
            if shown.sent:
                text += f"\n\nSent: {shown.outcome} (HTTP {shown.status}) {shown.reason}".rstrip()
            self.emit(options, data, text)
            if shown.sent and shown.outcome != "accepted":
                raise CommandError(f"The buyer did not accept the test lead: {shown.outcome}.")
        elif action == "statement":
            buyer = self._buyer(options["buyer"])
            found = selectors.statement(CLI, buyer.pk, options.get("month"))
            self.emit(
                options,
                {
                    "buyer": buyer.name,
                    "month": found.month,
                    "opening": str(found.opening),
                    "closing": str(found.closing),
                    "bought": found.bought,
                    "returned": found.returned,
                    "spent": str(found.spent),
                    "credited": str(found.credited),
                },
                selectors.statement_as_csv(found).rstrip("\n"),
            )
        elif action == "batch":
            import datetime as dt

            from django.utils import timezone

            from leadloop.distribution.selling.services import batches

            buyer = self._buyer(options["buyer"])
            try:
                day = (
                    dt.date.fromisoformat(options["day"])
                    if options.get("day")
                    else timezone.localdate() - dt.timedelta(days=1)
                )
            except ValueError as exc:
                raise CommandError("--day is a date like 2026-12-31.") from exc
            sent = batches.send_batch(buyer.pk, day, by=CLI, again=options["again"])
            self.emit(
                options,
                {
                    "file": sent.file_name,
                    "rows": sent.rows,
                    "sent_at": sent.sent_at,
                    "error": sent.error,
                },
                f"{sent.file_name}: {sent.rows} leads, "
                + (f"sent {sent.sent_at:%Y-%m-%d %H:%M}" if sent.sent_at else sent.error),
            )
            if sent.error:
                raise CommandError(sent.error)
        elif action == "login":
            from leadloop.distribution.selling.services import buyers as buyer_services

            buyer = self._buyer(options["buyer"])
            buyer_services.add_login_by_name(buyer.pk, options["username"], by=CLI)
            self.emit(
                options,
                {"buyer": buyer.name, "username": options["username"]},
                f"{options['username']} can now use the portal of {buyer.name}.",
            )
        else:
            wrong = selectors.verify_balances()
            self.emit(options, {"wrong": wrong}, "\n".join(wrong) or "Every balance is its ledger.")
            if wrong:
                raise CommandError(f"{len(wrong)} balance(s) differ from their ledger.")
