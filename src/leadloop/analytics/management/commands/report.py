"""`leadloop report sources|kpis|impact --period P [--by …] [--as USER] [--json|--csv]`: the
analytics reports at the command line, for scripts and BI tools."""

from __future__ import annotations

import csv
import json
from typing import Any
from zoneinfo import ZoneInfo

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from leadloop.accounts.actors import CLI, Actor
from leadloop.accounts.models import User
from leadloop.analytics.selectors import attribution, kpis, outcomes, periods, sources, tables
from leadloop.core.commands import LeadloopCommand

GROUPINGS = {
    "sources": ("source", "campaign"),
    "attribution": ("source", "campaign"),
    "kpis": ("rep", "team", "source", "partner"),
}


class Command(LeadloopCommand):
    help = (
        "Analytics reports: sources (per source or campaign: leads, funnel, revenue, cost, CPO, "
        "ROI), kpis (sales KPIs against the norms per rep, team, source or partner), impact "
        "(conversion by how soon leads were first contacted), attribution (revenue credited "
        "to touchpoints under five models, with ROI), outcomes (won and lost per month, win "
        "rate, sales cycle). Periods: 2026-11, 2026-Q4, "
        "2026, 2026-11-01..2026-11-30, this-month, last-month, last-30-days, last-12-months."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "report", choices=["sources", "kpis", "impact", "attribution", "outcomes"]
        )
        parser.add_argument("--period", default=periods.DEFAULT)
        parser.add_argument("--by", help="sources: source|campaign; kpis: rep|team|source|partner")
        parser.add_argument("--as", dest="as_user", help="Scope the figures to this user's view.")
        parser.add_argument("--zone", default="Europe/Amsterdam", help="The periods' time zone.")
        parser.add_argument("--csv", action="store_true", help="Print CSV.")

    def handle(self, *args: Any, **options: Any) -> None:
        actor, zone = self._viewer(options)
        now = timezone.now()
        period = periods.parse_period(
            options["period"], today=now.astimezone(zone).date(), zone=zone
        )
        report = options["report"]
        grouping = options["by"] or (GROUPINGS.get(report, ("",))[0])
        if report in GROUPINGS and grouping not in GROUPINGS[report]:
            raise CommandError(f"--by must be one of {', '.join(GROUPINGS[report])} for {report}.")
        if report == "sources":
            found = sources.source_report(actor, period, grouping=grouping)  # type: ignore[arg-type]
            data: Any = {"rows": found.rows, "total": found.total, "currency": found.currency}
            headers, rows = tables.source_table(found)
        elif report == "attribution":
            credited = attribution.attribution_report(actor, period, grouping=grouping)  # type: ignore[arg-type]
            data = {"rows": credited.rows, "total": credited.total, "currency": credited.currency}
            headers, rows = tables.attribution_table(credited)
        elif report == "kpis":
            result = kpis.kpi_report(actor, period, grouping=grouping, now=now)  # type: ignore[arg-type]
            data = {"rows": result.rows, "total": result.total, "currency": result.currency}
            headers, rows = tables.kpi_table(result)
        elif report == "outcomes":
            closed = outcomes.outcome_report(actor, period)
            data = {
                "months": closed.months,
                "won": closed.won,
                "lost": closed.lost,
                "win_rate": closed.win_rate,
                "median_days_to_win": closed.median_days_to_win,
                "currency": closed.currency,
            }
            headers, rows = tables.outcome_table(closed)
        else:
            currency, impact = kpis.follow_up_impact(actor, period)
            data = {"rows": [vars(r) for r in impact], "currency": currency}
            headers, rows = tables.impact_table(impact)
        data["period"] = {"first": period.first, "last": period.last, "zone": str(zone)}
        if options["csv"]:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(headers)
            writer.writerows([[tables.plain(v) for v in row] for row in rows])
        elif options["json"]:
            self.stdout.write(json.dumps(data, default=str, ensure_ascii=False, indent=2))
        else:
            self.stdout.write(f"{report} {period.first}..{period.last} ({zone})")
            widths = [
                max(len(str(tables.plain(r[i]))) for r in [headers, *rows])
                for i in range(len(headers))
            ]
            for row in [headers, *rows]:
                self.stdout.write(
                    "  ".join(
                        str(tables.plain(v)).rjust(w) for v, w in zip(row, widths, strict=True)
                    )
                )

    def _viewer(self, options: dict[str, Any]) -> tuple[Actor, ZoneInfo]:
        try:
            zone = ZoneInfo(options["zone"])
        except (KeyError, ValueError) as exc:
            raise CommandError(f"Unknown time zone {options['zone']!r}.") from exc
        if not options["as_user"]:
            return CLI, zone
        user = User.objects.filter(username=options["as_user"]).first()
        if user is None:
            raise CommandError(f"No user {options['as_user']!r}.")
        return user, ZoneInfo(user.time_zone) if user.time_zone else zone
