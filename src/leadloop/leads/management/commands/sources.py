from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI, SYSTEM
from leadloop.core.commands import LeadloopCommand
from leadloop.leads import selectors, services
from leadloop.leads.models import ChannelKind, MinimumContact, OnInvalidLead, Source


def _row(source: Source) -> dict[str, Any]:
    return {
        "id": source.pk,
        "name": source.name,
        "kind": source.kind,
        "key_prefix": source.key_prefix,
        "key_active": source.has_active_key,
        "default_country": source.default_country,
        "intake_limit": source.intake_limit,
        "intake_limit_per_address": source.intake_limit_per_address,
        "minimum_contact": source.minimum_contact,
        "on_invalid": source.invalid_lead_policy,
    }


def _limit(raw: str | None, current: int | None) -> int | None:
    if raw is None:
        return current
    if raw == "default":
        return None
    try:
        return int(raw)
    except ValueError:
        raise CommandError(f"A limit is a number or 'default', not {raw!r}.") from None


class Command(LeadloopCommand):
    help = "Lead sources: list, create (prints the new key), rotate-key, revoke, limits, rules."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "action", choices=["list", "create", "rotate-key", "revoke", "limits", "rules"]
        )
        parser.add_argument("name", nargs="?", help="The source's name (all but list).")
        parser.add_argument("--kind", choices=ChannelKind.values, default=ChannelKind.HTTP_POST)
        parser.add_argument("--country", default="", help="Default country, e.g. NL.")
        parser.add_argument("--language", default="", choices=["", "en", "nl"])
        parser.add_argument(
            "--per-source", help="limits: posts per window for the source (0: none, 'default')."
        )
        parser.add_argument(
            "--per-address", help="limits: posts per window from one address (0: none, 'default')."
        )
        parser.add_argument(
            "--minimum-contact",
            choices=MinimumContact.values,
            help="rules: what a lead must carry to be taken in.",
        )
        parser.add_argument(
            "--on-invalid",
            choices=[*OnInvalidLead.values, "default"],
            help="rules: refuse a lead with a bad value, or keep it for review "
            "('default': reject on web forms, review elsewhere).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action, name = options["action"], options["name"]
        if action == "list":
            rows = [_row(s) for s in selectors.list_sources(SYSTEM)]
            lines = [
                f"{r['id']:>5}  {r['name']:<30} {r['kind']:<10} "
                f"{'key ' + r['key_prefix'] + '…' if r['key_active'] else 'no active key'}"
                for r in rows
            ]
            self.emit(options, rows, "\n".join(lines) or "No sources yet.")
            return
        if not name:
            raise CommandError(f"'sources {action}' needs the source's name.")
        if action == "create":
            created = services.create_source(
                name=name,
                kind=options["kind"],
                by=CLI,
                default_country=options["country"],
                default_language=options["language"],
            )
            data = {**_row(created.source), "key": created.raw_key}
            self.emit(
                options,
                data,
                f"Created source {name!r} (id {created.source.pk}).\n"
                f"Source key (shown once): {created.raw_key}",
            )
            return
        source = selectors.get_source_by_name(SYSTEM, name)
        if action == "rotate-key":
            raw = services.rotate_source_key(source, by=CLI)
            self.emit(
                options, {**_row(source), "key": raw}, f"New key for {name!r} (shown once): {raw}"
            )
        elif action == "limits":
            services.set_intake_limits(
                source,
                per_source=_limit(options["per_source"], source.intake_limit),
                per_address=_limit(options["per_address"], source.intake_limit_per_address),
                by=SYSTEM,
            )
            shown = {
                name: "default" if value is None else value
                for name, value in (
                    ("per source", source.intake_limit),
                    ("per address", source.intake_limit_per_address),
                )
            }
            self.emit(
                options,
                _row(source),
                f"Post limits of {name!r}: "
                + ", ".join(f"{k} {v}" for k, v in shown.items())
                + f" (per {settings.LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS} s).",
            )
        elif action == "rules":
            on_invalid = options["on_invalid"]
            services.set_lead_rules(
                source,
                minimum_contact=options["minimum_contact"] or source.minimum_contact,
                on_invalid=source.on_invalid
                if on_invalid is None
                else ("" if on_invalid == "default" else on_invalid),
                by=CLI,
            )
            self.emit(
                options,
                _row(source),
                f"Lead rules of {name!r}: minimum contact {source.minimum_contact}, "
                f"a refused lead: {source.invalid_lead_policy}"
                + ("" if source.on_invalid else " (the channel's default)")
                + ".",
            )
        else:
            services.revoke_source_key(source, by=CLI)
            self.emit(options, _row(source), f"Revoked the key of {name!r}.")
