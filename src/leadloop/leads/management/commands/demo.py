from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from leadloop.core.commands import LeadloopCommand
from leadloop.leads import demo


class Command(LeadloopCommand):
    help = "Load a realistic, deterministic demo data set (users, sources, campaigns, leads)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--leads", type=int, default=20_000, help="How many leads (20000).")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data (1).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database has leads."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        result = demo.load_demo(
            leads=options["leads"], seed=options["seed"], if_empty=options["if_empty"]
        )
        login = f"Log in at http://127.0.0.1:8000/ as admin / {result.password}"
        others = ", ".join(f"{name} ({role})" for name, role in result.users if name != "admin")
        if result.skipped:
            text = f"The database has leads already; no demo data loaded.\n{login}"
        else:
            text = (
                f"Loaded {result.leads:,} leads with {result.activities:,} timeline entries and "
                f"{result.organizations:,} organisations in {result.seconds:.1f} s.\n{login}\n"
                f"Other demo users, all with password {result.password}: {others}"
            )
        data = {
            "skipped": result.skipped,
            "leads": result.leads,
            "activities": result.activities,
            "organizations": result.organizations,
            "seconds": round(result.seconds, 2),
            "login_url": "http://127.0.0.1:8000/",
            "users": [{"username": n, "role": r} for n, r in result.users],
            "password": result.password,
        }
        self.emit(options, data, text)
