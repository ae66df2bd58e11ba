"""`leadloop rules list | show [--version N|--draft] | test --id N [--draft] | dry-run [--last N]
| export [--version N|--draft] [FILE] | import FILE [--publish] [--note TEXT] | publish [--note]`:
the routing rules from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI
from leadloop.core.commands import LeadloopCommand
from leadloop.distribution import actions, conditions, selectors, services

MAX_FILE = 2 * 1024 * 1024


class Command(LeadloopCommand):
    help = "List, test, dry-run, export, import and publish the routing rules."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("list", help="The versions, newest first.")
        for name in ("show", "export"):
            found = sub.add_parser(name, help=f"{name.title()} the rules in force.")
            which = found.add_mutually_exclusive_group()
            which.add_argument("--version", type=int, help="A published version.")
            which.add_argument("--draft", action="store_true", help="The draft.")
            if name == "export":
                found.add_argument("file", nargs="?", help="Write here (else standard output).")
        test = sub.add_parser("test", help="Which rule a lead matches, and why.")
        test.add_argument("--id", type=int, required=True, dest="lead_id")
        test.add_argument("--draft", action="store_true", help="Test the draft.")
        dry = sub.add_parser("dry-run", help="Where the newest leads would go.")
        dry.add_argument("--last", type=int, default=200)
        dry.add_argument("--active", action="store_true", help="The rules in force, not the draft.")
        imported = sub.add_parser("import", help="Check a JSON rule set and make it the draft.")
        imported.add_argument("file")
        imported.add_argument("--publish", action="store_true", help="Publish it at once.")
        imported.add_argument("--note", default="")
        publish = sub.add_parser("publish", help="Publish the draft as the next version.")
        publish.add_argument("--note", default="")

    def _document(self, options: dict[str, Any]) -> dict[str, Any]:
        if options.get("draft"):
            draft = selectors.get_draft_row()
            return {"rules": draft.rules, "default": draft.default}
        if options.get("version"):
            found = selectors.get_version_for(CLI, options["version"])
            return {"rules": found.rules, "default": found.default}
        active = selectors.active_rule_set()
        if active is None:
            raise CommandError("No routing rules are published yet (routing is off).")
        return {"rules": active.rules, "default": active.default}

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "_" + options["action"].replace("-", "_"))(options)

    def _list(self, options: dict[str, Any]) -> None:
        rows = [
            {
                "version": v.version,
                "published_at": v.published_at.isoformat(),
                "by": v.published_by_label,
                "rules": len(v.rules),
                "note": v.note,
            }
            for v in selectors.list_versions(CLI)
        ]
        text = "\n".join(
            f"v{v.version}  {v.published_at:%Y-%m-%d %H:%M}  {v.published_by_label}  "
            f"{len(v.rules)} rule(s)  {v.note}"
            for v in selectors.list_versions(CLI)
        )
        self.emit(options, rows, text or "No versions published yet (routing is off).")

    def _show(self, options: dict[str, Any]) -> None:
        document = self._document(options)
        lines = []
        for number, rule in enumerate(document["rules"], start=1):
            lines.append(f"{number}. {rule['name']} → {actions.describe(rule['action'])}")
            lines.extend(f"     {conditions.as_text(c)}" for c in rule["conditions"])
        lines.append(f"default → {actions.describe(document['default'])}")
        self.emit(options, document, "\n".join(lines))

    def _export(self, options: dict[str, Any]) -> None:
        text = json.dumps(
            services.export_document(self._document(options)), ensure_ascii=False, indent=2
        )
        if options.get("file"):
            Path(options["file"]).write_text(text + "\n", encoding="utf-8")
            self.stdout.write(f"Wrote {options['file']}.")
        else:
            self.stdout.write(text)

    def _import(self, options: dict[str, Any]) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No file {path}.")
        if path.stat().st_size > MAX_FILE:
            raise CommandError(f"{path} is larger than {MAX_FILE // 1024} KB.")
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{path} is not a JSON rule set: {exc}") from exc
        draft = services.save_draft(document, by=CLI)
        text = f"Checked {len(draft.rules)} rule(s); they are the draft now."
        data: dict[str, Any] = {"rules": len(draft.rules)}
        if options["publish"]:
            published = services.publish(by=CLI, note=options["note"])
            data["version"] = published.version
            text += f" Published as version {published.version}."
        self.emit(options, data, text)

    def _publish(self, options: dict[str, Any]) -> None:
        published = services.publish(by=CLI, note=options["note"])
        self.emit(
            options,
            {"version": published.version},
            f"Published version {published.version}: leads route by it now.",
        )

    def _test(self, options: dict[str, Any]) -> None:
        trial = services.test_lead(options["lead_id"], self._document(options), by=CLI)
        lines = [f"Lead #{trial.lead.pk} matches “{trial.match.name}” → {trial.target}"]
        if trial.rep:
            lines[0] += f": {trial.rep}"
        if trial.skipped:
            lines.append("  " + "; ".join(trial.skipped))
        for name, checks in trial.rules:
            lines.append(f"  {name}")
            lines.extend(
                f"    {'✓' if c.ok else '✗'} {c.text}  (lead has {c.value})" for c in checks
            )
        data = {
            "lead_id": trial.lead.pk,
            "rule": trial.match.name,
            "is_default": trial.match.is_default,
            "target": trial.target,
            "rep": trial.rep,
            "notes": trial.skipped,
        }
        self.emit(options, data, "\n".join(lines))

    def _dry_run(self, options: dict[str, Any]) -> None:
        document = self._document({"draft": not options["active"]})
        result = services.dry_run(document, by=CLI, last=options["last"])
        counts = {name or "(default)": n for name, n in result.counts}
        lines = [f"{n:6d}  {name}" for name, n in counts.items()]
        if result.unmatched_rules:
            lines.append("Took no lead: " + ", ".join(result.unmatched_rules))
        self.emit(
            options, {"counts": counts, "unmatched_rules": result.unmatched_rules}, "\n".join(lines)
        )
