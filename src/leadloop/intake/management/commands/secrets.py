from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from leadloop.assessment import enrichment
from leadloop.core import secrets
from leadloop.core.commands import LeadloopCommand
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.webhooks.services.subscriptions import reencrypt_secrets


class Command(LeadloopCommand):
    help = (
        "Stored secrets (channel passwords, enrichment provider headers, webhook secrets): "
        "generate-key prints a new LEADLOOP_SECRETS_KEYS key, rotate re-encrypts every secret "
        "with the first key, list says which are stored (never their values)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["generate-key", "rotate", "list"])

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "generate-key":
            key = secrets.generate_key()
            self.emit(options, {"key": key}, key)
            return
        if action == "rotate":
            channels = channel_secrets.rotate_channel_secrets()
            providers = enrichment.rotate_provider_secrets()
            webhooks = reencrypt_secrets()
            self.emit(
                options,
                {"channel_secrets": channels, "providers": providers, "webhooks": webhooks},
                f"Re-encrypted {channels} channel password(s), the headers of {providers} "
                f"enrichment provider(s) and the signing secrets of {webhooks} webhook(s) with "
                "the first key of LEADLOOP_SECRETS_KEYS.",
            )
            return
        rows = channel_secrets.list_stored_secrets()
        lines = [
            f"{r['source_id']:>5}  {r['source']:<30} {r['section']}.{r['name']:<10} "
            f"set, changed {r['updated_at']:%Y-%m-%d %H:%M} UTC"
            for r in rows
        ]
        self.emit(options, rows, "\n".join(lines) or "No channel passwords stored.")
