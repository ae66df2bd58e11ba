"""`leadloop calls list | add LIST LEAD_ID… | add LIST --filter QUERY | stats [--days N]`: the
call lists with their counts, putting leads on a list (by id or from a lead-list filter), and
the agents' figures. Runs as the operator (the system actor)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from leadloop.accounts.actors import SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.errors import Conflict, NotFound
from leadloop.leads.selectors import get_lead_for
from leadloop.nurture.calls import selectors
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallList


class Command(LeadloopCommand):
    help = (
        "Telemarketing: list (call lists and their counts), add LIST LEAD_ID… or add LIST "
        "--filter QUERY (put leads on a list; exits non-zero when a lead cannot be called), "
        "stats [--days N] (calls per hour, reach and qualified rates per agent)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["list", "add", "stats"])
        parser.add_argument("call_list", nargs="?", default="", help="add: the list's name or id.")
        parser.add_argument("lead_ids", nargs="*", type=int, help="add: lead ids.")
        parser.add_argument("--filter", default="", help="add: a lead-list query string.")
        parser.add_argument("--days", type=int, default=7, help="stats: the period, in days.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options)
        elif action == "add":
            self._add(options)
        else:
            self._stats(options)

    def _list(self, options: dict[str, Any]) -> None:
        rows = [
            {"id": item.pk, "name": item.name, "is_active": item.is_active,
             **selectors.count_entries(item)}
            for item in selectors.list_call_lists_for(SYSTEM)
        ]  # fmt: skip
        text = "\n".join(
            f"{r['id']:>4}  {r['name']}  waiting {r['waiting']}, done {r['done']}, "
            f"cancelled {r['cancelled']}{'' if r['is_active'] else '  (inactive)'}"
            for r in rows
        )
        self.emit(options, rows, text or "No call lists.")

    def _find(self, ref: str) -> CallList:
        lists = selectors.list_call_lists_for(SYSTEM)
        found = lists.filter(pk=int(ref)).first() if ref.isdigit() and len(ref) < 18 else None
        found = found or lists.filter(name__iexact=ref.strip()).first()
        if found is None:
            raise NotFound(f"No call list {ref!r}.")
        return found

    def _add(self, options: dict[str, Any]) -> None:
        if not options["call_list"]:
            raise CommandError("Name the call list: leadloop calls add LIST LEAD_ID…")
        call_list = self._find(options["call_list"])
        if options["filter"]:
            result = calls.fill_from_filter(call_list, by=SYSTEM, query=options["filter"])
            self.emit(
                options,
                result.__dict__,
                f"{result.added} added to {call_list.name}; skipped {result.already} already "
                f"there, {result.no_phone} without a phone, {result.do_not_call} do-not-call.",
            )
            return
        if not options["lead_ids"]:
            raise CommandError("Give lead ids or --filter QUERY.")
        added, refused = [], []
        for lead_id in options["lead_ids"]:
            try:
                lead = get_lead_for(SYSTEM, lead_id)
                entry = calls.add_to_call_list(lead, call_list, by=SYSTEM, origin="cli")
            except (Conflict, NotFound) as exc:
                refused.append({"lead_id": lead_id, "reason": exc.detail})
                continue
            added.append({"lead_id": lead_id, "entry_id": entry.pk})
        lines = [f"Lead {a['lead_id']}: on {call_list.name} (entry {a['entry_id']})" for a in added]
        lines += [f"Lead {r['lead_id']}: {r['reason']}" for r in refused]
        self.emit(options, {"added": added, "refused": refused}, "\n".join(lines))
        if refused:
            raise CommandError(f"{len(refused)} of {len(options['lead_ids'])} leads not added.")

    def _stats(self, options: dict[str, Any]) -> None:
        days = options["days"]
        if not 1 <= days <= 366:
            raise CommandError("--days is between 1 and 366.")
        end = timezone.now()
        rows = selectors.agent_stats(SYSTEM, (end - dt.timedelta(days=days), end))
        data = [
            {**r.__dict__, "calls_per_hour": r.calls_per_hour, "reach_rate": r.reach_rate,
             "qualified_rate": r.qualified_rate}
            for r in rows
        ]  # fmt: skip
        text = "\n".join(
            f"{r.agent}: {r.calls} calls, {r.calls_per_hour}/hour, reached {r.reach_rate:.0%}, "
            f"qualified {r.qualified_rate:.0%}"
            for r in rows
        )
        self.emit(options, data, text or f"No calls in the last {days} days.")
