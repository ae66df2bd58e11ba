from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandParser

from leadloop.accounts import selectors, services
from leadloop.accounts.actors import CLI
from leadloop.accounts.lead_fields import BY_KEY, LEAD_FIELDS
from leadloop.accounts.models import PartnerOrganization
from leadloop.core.commands import LeadloopCommand


def _row(partner: PartnerOrganization) -> dict[str, Any]:
    return {
        "id": partner.pk,
        "name": partner.name,
        "is_active": partner.is_active,
        "visible_fields": list(partner.visible_fields or []),
    }


class Command(LeadloopCommand):
    help = "Partner organisations: list them, or show or set the lead fields their users see."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        actions = parser.add_subparsers(dest="action", required=True)
        listing = actions.add_parser("list", help="Every partner organisation and its field list.")
        fields = actions.add_parser(
            "fields", help="Show (or with --set, set) the lead fields a partner's users see."
        )
        for sub in (listing, fields):
            # --json after the action too; SUPPRESS keeps one given before it.
            sub.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
        fields.add_argument("name", help="The partner organisation's name.")
        fields.add_argument(
            "--set",
            dest="keys",
            metavar="KEY,KEY,…",
            help="Exactly these keys, comma-separated (audited); --set '' hides every field. "
            f"Keys: {', '.join(field.key for field in LEAD_FIELDS)}.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "list":
            rows = [_row(p) for p in selectors.list_partners(CLI)]
            text = "\n".join(
                f"{r['id']:>5}  {r['name']}{'' if r['is_active'] else ' (inactive)'}: "
                f"{', '.join(r['visible_fields']) or '-'}"
                for r in rows
            )
            self.emit(options, rows, text or "No partner organisations.")
            return
        partner = selectors.get_partner_by_name(CLI, options["name"])
        if options["keys"] is not None:
            keys = [key for key in options["keys"].split(",") if key.strip()]
            partner = services.change_partner(
                partner,
                by=CLI,
                name=partner.name,
                is_active=partner.is_active,
                visible_fields=keys,
            )
        row = _row(partner)
        lines = [f"{partner.name}:"] + [
            f"  {key:<12} {BY_KEY[key].label}" for key in row["visible_fields"] if key in BY_KEY
        ]
        self.emit(options, row, "\n".join(lines))
