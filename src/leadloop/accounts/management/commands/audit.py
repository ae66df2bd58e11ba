from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from leadloop.accounts.actors import CLI
from leadloop.accounts.audit import prune_audit
from leadloop.accounts.audit_selectors import MAX_PAGE, AuditFilters, list_audit_events
from leadloop.accounts.models import AuditAction, AuditEvent
from leadloop.core.commands import LeadloopCommand


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from exc


class Command(LeadloopCommand):
    help = "Read the audit log (list), or remove entries older than a date (prune --yes)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="verb", required=True)
        listing = sub.add_parser("list", help="Newest entries first.")
        listing.add_argument("--actor", default="", help="Username, or cli/system.")
        listing.add_argument("--action", default="", choices=["", *AuditAction.values])
        listing.add_argument("--lead", type=int, help="Only entries about this lead id.")
        listing.add_argument("--target-type", default="")
        listing.add_argument("--target-id", default="")
        listing.add_argument("--since", type=_date, help="From this day (YYYY-MM-DD).")
        listing.add_argument("--until", type=_date, help="To the end of this day.")
        listing.add_argument("--limit", type=int, default=50, help=f"At most {MAX_PAGE}.")
        listing.add_argument("--json", action="store_true", help="Print machine-readable JSON.")
        prune = sub.add_parser("prune", help="Delete entries from before a day (logged).")
        prune.add_argument("--before", type=_date, required=True, help="YYYY-MM-DD")
        prune.add_argument("--yes", action="store_true", help="Really delete; else only count.")
        prune.add_argument("--json", action="store_true", help="Print machine-readable JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verb"] == "prune":
            self._prune(options)
            return
        lead = options["lead"]
        filters = AuditFilters(
            actor=options["actor"],
            action=options["action"],
            target_type="lead" if lead is not None else options["target_type"],
            target_id=str(lead) if lead is not None else options["target_id"],
            since=options["since"],
            until=options["until"],
        )
        page = list_audit_events(CLI, filters, limit=options["limit"])
        rows = [
            {
                "id": e.pk,
                "at": e.at.isoformat(),
                "actor": e.actor_label,
                "action": e.action,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "target_label": e.target_label,
                "data": e.data,
                "ip": e.ip,
            }
            for e in page.items
        ]
        text = "\n".join(
            f"{r['at'][:19]}  {r['actor']:<16} {r['action']:<20} {r['target_type']} "
            f"{r['target_label'] or r['target_id']}  {e.details_text}"
            for r, e in zip(rows, page.items, strict=True)
        )
        self.emit(options, rows, text or "No audit entries match.")

    def _prune(self, options: dict[str, Any]) -> None:
        before = timezone.make_aware(dt.datetime.combine(options["before"], dt.time.min))
        if not options["yes"]:
            count = AuditEvent.objects.filter(at__lt=before).count()
            self.emit(
                options,
                {"would_remove": count, "before": before.isoformat()},
                f"{count} entries are older than {options['before']}; add --yes to delete them.",
            )
            return
        removed = prune_audit(before=before, by=CLI)
        self.emit(
            options,
            {"removed": removed, "before": before.isoformat()},
            f"Removed {removed} entries older than {options['before']} (the prune is logged).",
        )
