from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.core.serializers.json import DjangoJSONEncoder

from leadloop.accounts.actors import CLI, SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.privacy import selectors, services


def _person_args(parser: CommandParser) -> None:
    parser.add_argument("--lead", type=int, help="A lead's number.")
    parser.add_argument("--email", default="", help="The person's e-mail address.")
    parser.add_argument("--phone", default="", help="The person's phone number.")


def _query(options: dict[str, Any]) -> selectors.PersonQuery:
    return selectors.parse_query(
        lead_id=options["lead"], email=options["email"], phone=options["phone"]
    )


class Command(LeadloopCommand):
    help = "A person's data: export, erase, record an objection; retention rules."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        actions = parser.add_subparsers(dest="action", required=True)
        export = actions.add_parser("export", help="Write everything about a person as JSON.")
        _person_args(export)
        export.add_argument("-o", "--output", help="Write to this file instead of stdout.")
        erase = actions.add_parser("erase", help="Erase a person everywhere (irreversible).")
        _person_args(erase)
        erase.add_argument("--yes", action="store_true", help="Confirm: this cannot be undone.")
        obj = actions.add_parser("object", help="Record an opt-out or objection on a lead.")
        obj.add_argument("--lead", type=int, required=True)
        kind = obj.add_mutually_exclusive_group(required=True)
        kind.add_argument("--marketing", action="store_true", help="No marketing (unsubscribe).")
        kind.add_argument("--processing", action="store_true", help="Objects to processing.")
        kind.add_argument("--withdraw", action="store_true", help="Marketing allowed again.")
        obj.add_argument("--source", default="", help="How the request reached you.")
        retention = actions.add_parser("retention", help="List, set or apply retention rules.")
        retention.add_argument("retention_action", choices=["list", "set", "apply"])
        retention.add_argument("target", nargs="?", choices=["submission", "lead"])
        retention.add_argument("state", nargs="?", help="A submission state or lead status.")
        retention.add_argument("days", nargs="?", type=int, help="Keep for this many days.")
        retention.add_argument("--inactive", action="store_true", help="set: switch the rule off.")
        retention.add_argument("--dry-run", action="store_true", help="apply: only count.")
        for sub in (erase, obj, retention):
            sub.add_argument("--json", action="store_true", help="Print machine-readable JSON.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "export":
            doc = services.export_person(_query(options), by=CLI)
            text = json.dumps(doc, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            if options["output"]:
                Path(options["output"]).write_text(text + "\n", encoding="utf-8")
                self.stdout.write(
                    f"Wrote {len(doc['leads'])} leads, {len(doc['submissions'])} submissions "
                    f"to {options['output']}."
                )
            else:
                self.stdout.write(text)
        elif action == "erase":
            if not options["yes"]:
                raise CommandError("Erasure cannot be undone: add --yes to go ahead.")
            result = services.erase_person(_query(options), by=CLI, confirm=services.CONFIRM_WORD)
            counts = ", ".join(f"{n} {kind}" for kind, n in result.counts.items())
            self.emit(options, result.as_dict(), f"Erased: {counts}.")
        elif action == "object":
            flags: dict[str, bool | None] = {"marketing": False, "processing": False}
            if not options["withdraw"]:
                flags = {
                    "marketing": options["marketing"] or None,
                    "processing": options["processing"] or None,
                }
            lead = services.record_objection(
                options["lead"], by=CLI, source=options["source"], **flags
            )
            data = {
                "lead_id": lead.pk,
                "marketing_opt_out_at": lead.marketing_opt_out_at,
                "processing_objected_at": lead.processing_objected_at,
                "received_through": lead.objection_source or "",
            }
            self.emit(options, data, f"Lead {lead.pk}: recorded.")
        else:
            self._retention(options)

    def _retention(self, options: dict[str, Any]) -> None:
        which = options["retention_action"]
        if which == "set":
            if not (options["target"] and options["state"] and options["days"] is not None):
                raise CommandError("'retention set' needs TARGET STATE DAYS.")
            services.set_retention_rule(
                by=CLI,
                target=options["target"],
                state=options["state"],
                keep_days=options["days"],
                is_active=not options["inactive"],
            )
        if which == "apply":
            report = services.apply_retention(dry_run=options["dry_run"])
            lines = [
                f"{r.target:<10} {r.state:<13} {r.keep_days:>6} days  "
                f"{'would erase' if report.dry_run else 'erased'} {r.count}"
                for r in report.rules
            ]
            self.emit(options, report.as_dict(), "\n".join(lines) or "No active rules.")
            return
        rules = [
            {
                "target": r.target,
                "state": r.state,
                "keep_days": r.keep_days,
                "is_active": r.is_active,
            }
            for r in selectors.list_retention_rules(SYSTEM)
        ]
        lines = [
            f"{r['target']:<10} {r['state']:<13} {r['keep_days']:>6} days"
            f"{'' if r['is_active'] else '  (off)'}"
            for r in rules
        ]
        self.emit(options, rules, "\n".join(lines) or "No rules.")
