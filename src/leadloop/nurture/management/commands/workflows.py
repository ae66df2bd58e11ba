"""`leadloop workflows list|create|simulate|activate|pause|run`: nurture workflows from the
command line (the operator acts with the system's rights)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand
from leadloop.nurture.workflows import selectors
from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.services import live


class Command(LeadloopCommand):
    help = (
        "Nurture workflows. list: every workflow. create NAME --file DEF.json | --template "
        "brochure-follow-up: a draft. simulate NAME [--scenario 'name: opened@2 answered@3'] "
        "[--sample N] [--events '...']: each lead's path on a simulated clock. activate NAME, "
        "pause NAME. run: the steps due now (the worker does this every minute)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "action", choices=["list", "create", "simulate", "activate", "pause", "run"]
        )
        parser.add_argument("workflow", nargs="?", default="", help="name or id")
        parser.add_argument("--file", default="", help="a definition as JSON (create)")
        parser.add_argument("--template", default="", help="a ready template (create)")
        parser.add_argument(
            "--scenario",
            action="append",
            default=[],
            help="'name: events' in days after entering, e.g. 'Opens: opened@9' (simulate)",
        )
        parser.add_argument("--sample", type=int, default=0, help="real nurturing leads (simulate)")
        parser.add_argument("--events", default="", help="what the real leads do (simulate)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "list":
            self._list(options)
            return
        if action == "run":
            counts = live.run_due()
            self.emit(options, counts, json.dumps(counts) if counts else "Nothing was due.")
            return
        if not options["workflow"]:
            raise CommandError(f"usage: leadloop workflows {action} NAME")
        if action == "create":
            self._create(options)
            return
        workflow = selectors.find_workflow(CLI, options["workflow"])
        if action == "activate":
            version = workflows.activate(workflow, by=CLI)
            self.emit(
                options,
                {"workflow": workflow.name, "version": version.number},
                f"{workflow.name}: version {version.number} is active.",
            )
        elif action == "pause":
            workflows.pause(workflow, by=CLI)
            self.emit(options, {"workflow": workflow.name}, f"{workflow.name}: paused.")
        else:
            self._simulate(workflow, options)

    def _list(self, options: dict[str, Any]) -> None:
        rows = [
            {
                "id": w.pk,
                "name": w.name,
                "state": w.state,
                "active_version": w.active_version.number if w.active_version else None,
                "leads_now": w.active_count,  # type: ignore[attr-defined]
                "leads_total": w.total_count,  # type: ignore[attr-defined]
            }
            for w in selectors.list_workflows(CLI)
        ]
        lines = [
            f"{r['id']:>5}  {r['name']}  [{r['state']}"
            f"{', v' + str(r['active_version']) if r['active_version'] else ''}]  "
            f"{r['leads_now']} in it now, {r['leads_total']} in total"
            for r in rows
        ]
        self.emit(options, rows, "\n".join(lines) if lines else "No workflows yet.")

    def _create(self, options: dict[str, Any]) -> None:
        if options["file"]:
            try:
                definition = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise CommandError(f"cannot read {options['file']}: {exc}") from exc
            made = workflows.create_workflow(
                by=CLI, name=options["workflow"], definition=definition
            )
        elif options["template"]:
            made = workflows.create_from_template(
                by=CLI, template=options["template"], name=options["workflow"]
            )
        else:
            raise CommandError("create needs --file DEF.json or --template brochure-follow-up")
        self.emit(options, {"id": made.pk, "name": made.name}, f"Created draft {made.name}.")

    def _simulate(self, workflow: Any, options: dict[str, Any]) -> None:
        scenarios = []
        for text in options["scenario"]:
            name, sep, events = text.partition(":")
            scenarios.append((name.strip(), events if sep else ""))
        result = workflows.simulate_workflow(
            by=CLI,
            definition=selectors.latest_version(CLI, workflow).definition,
            scenarios=scenarios,
            sample=options["sample"],
            sample_scenario=options["events"],
        )
        rows: list[dict[str, Any]] = [
            {
                "lead": run.label,
                "lead_id": run.lead_id,
                "ending": run.outcome if run.ended else f"still at {run.at_step}",
                "path": [f"{m.step}:{m.outcome}" for m in run.path],
            }
            for run in result.runs
        ]
        lines = [f"{r['lead']}: {' → '.join(r['path'])}  => {r['ending']}" for r in rows]
        lines.append("")
        lines += [f"{n:>5}  {ending}" for ending, n in sorted(result.endings.items())]
        self.emit(
            options,
            {"runs": rows, "endings": result.endings},
            "\n".join(lines),
        )
