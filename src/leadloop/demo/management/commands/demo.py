from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = "Load a realistic, deterministic demo data set (users, sources, campaigns, leads)."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--leads", type=int, default=20_000, help="How many leads (20000).")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same data (1).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the database has leads."
        )
        parser.add_argument(
            "--jobs",
            type=int,
            default=1,
            help="Processes writing the leads at once, on PostgreSQL (1); 2 on two cores.",
        )
        parser.add_argument(
            "--no-scoring",
            action="store_true",
            help="Skip the demo scoring rules and the predictive model.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            from leadloop.demo import dataset as demo
        except ImportError as exc:  # Faker is the demo's own dependency, not the product's
            raise CommandError(
                f"The demo data needs {exc.name or 'Faker'}: pip install 'leadloop[demo]'."
            ) from exc
        result = demo.load_demo(
            leads=options["leads"],
            seed=options["seed"],
            if_empty=options["if_empty"],
            jobs=max(options["jobs"], 1),
        )
        scoring = ""
        if not result.skipped and not options["no_scoring"]:
            scoring = _scoring()
        login = f"Log in at http://127.0.0.1:8000/ as admin / {result.password}"
        others = ", ".join(f"{name} ({role})" for name, role in result.users if name != "admin")
        if result.skipped:
            text = f"The database has leads already; no demo data loaded.\n{login}"
        else:
            text = (
                f"Loaded {result.leads:,} leads with {result.activities:,} timeline entries and "
                f"{result.organizations:,} organisations in {result.seconds:.1f} s.\n{login}\n"
                f"Other demo users, all with password {result.password}: {others}\n{scoring}"
            ).rstrip()
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


def _scoring() -> str:
    """Demo scoring rules and a predictive model trained on the demo's closed leads."""
    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment.predictive import services as predictive
    from leadloop.demo import scoring as assessment_demo
    from leadloop.errors import ValidationFailed

    assessment_demo.seed_rules()
    try:
        model, scored = predictive.train_and_score(by=SYSTEM)
    except ValidationFailed as exc:  # a tiny demo has too few closed leads to learn from
        return f"No predictive model: {exc.detail}"
    return (
        f"Predictive model trained: AUC {model.auc:.2f} on held-out leads, {scored:,} leads "
        "scored. The worker assesses the demo leads in the background (Review, Scoring)."
    )
