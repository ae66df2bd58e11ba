"""`leadloop tasks overdue [--team T] [--json]`: open follow-up tasks past due, oldest first."""

from __future__ import annotations

import zoneinfo
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from leadloop.accounts.actors import CLI
from leadloop.accounts.selectors import get_defaults
from leadloop.core.commands import LeadloopCommand
from leadloop.sales.selectors import my_day as day


class Command(LeadloopCommand):
    help = (
        "Follow-up tasks: overdue [--team NAME] lists the open tasks past due (lead, owner, "
        "kind, due, how late), oldest first, for all teams or one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["overdue"])
        parser.add_argument("--team", default="", help="Only the tasks on this team's leads.")
        parser.add_argument(
            "--limit", type=int, default=1000, help="At most this many (0: all). Default 1000."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        team = None
        if options["team"]:
            team = day.find_team(options["team"])
            if team is None:
                raise CommandError(f"No team is called {options['team']!r}.")
        now = timezone.now()
        zone = zoneinfo.ZoneInfo(get_defaults().time_zone)
        found = day.list_overdue_tasks(CLI, now=now, team=team)
        limit = max(0, options["limit"])
        tasks = list(found[:limit] if limit else found.iterator())
        rows = [
            {
                "task_id": task.pk,
                "lead_id": task.lead_id,
                "lead": str(task.lead),
                "team": task.lead.team.name if task.lead.team else None,
                "owner": task.owner.display_name,
                "owner_username": task.owner.username,
                "kind": task.kind,
                "title": task.title,
                "due_at": task.due_at.isoformat(),
                "late_minutes": int((now - task.due_at).total_seconds() // 60),
            }
            for task in tasks
        ]
        lines = [
            f"{timezone.localtime(t.due_at, zone):%Y-%m-%d %H:%M}"
            f"  {day.span_text(now - t.due_at) + ' late':>16}"
            f"  {r['kind']:<10}  #{r['lead_id']} {r['lead']}  ({r['owner']}"
            + (f", {r['team']}" if r["team"] else "")
            + ")"
            for r, t in zip(rows, tasks, strict=True)
        ]
        where = f" for team {team.name}" if team else ""
        text = "\n".join(lines) if lines else f"No overdue tasks{where}."
        if lines and limit and len(rows) == limit:
            text += f"\n(first {limit}; --limit 0 lists all)"
        self.emit(options, rows, text)
