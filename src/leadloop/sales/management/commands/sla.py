"""`leadloop sla check | status [--team T]`: run the first-contact sweep once, or list the clocks
still waiting for a first contact."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand
from leadloop.sales.selectors import team as selectors
from leadloop.sales.services import sweep


class Command(LeadloopCommand):
    help = (
        "First-contact clocks: check (start lost clocks, send the reminders and escalate the "
        "breaches that are due, once), status [--team T] (clocks still running, late first)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["check", "status"])
        parser.add_argument("--team", default="", help="status: this team only (name or id).")
        parser.add_argument("--limit", type=int, default=50, help="status: at most this many.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "check":
            counts = sweep.check()
            self.emit(
                options,
                counts,
                f"Started {counts['started']}, reminded {counts['reminded']}, "
                f"breached {counts['breached']}.",
            )
            return
        team = selectors.find_team(CLI, options["team"]) if options["team"] else None
        now = timezone.now()
        found = selectors.list_running_clocks(
            CLI, team=team, now=now, limit=max(1, min(options["limit"], 1000))
        )
        running = found.clocks
        rows = [
            {
                "lead_id": clock.lead_id,
                "lead": str(clock.lead),
                "team": clock.team.name if clock.team else None,
                "owner": clock.lead.assigned_to.username if clock.lead.assigned_to else None,
                "due_at": clock.due_at.isoformat(),
                "late": clock.due_at < now,
                "reminded": clock.reminded_at is not None,
                "breached": clock.breached_at is not None,
            }
            for clock in running
        ]
        lines = [
            f"{'LATE' if r['late'] else '    '} #{r['lead_id']:<8} "
            f"{timezone.localtime(clock.due_at):%Y-%m-%d %H:%M}  {r['team'] or '-':<16} "
            f"{r['owner'] or '(pool)':<16} {r['lead']}"
            for r, clock in zip(rows, running, strict=True)
        ]
        summary = f"{found.running} clock(s) running, {found.late} past their deadline."
        self.emit(
            options,
            {"running": found.running, "late": found.late, "shown": len(rows), "clocks": rows},
            "\n".join([*lines, summary]),
        )
