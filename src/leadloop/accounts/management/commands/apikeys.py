from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser
from django.utils import timezone

from leadloop.accounts import selectors, services
from leadloop.accounts.actors import CLI, SYSTEM
from leadloop.accounts.models import ApiKey
from leadloop.core.commands import LeadloopCommand


def _row(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.pk,
        "user": key.user.username,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
        "last_used_at": key.last_used_at.isoformat() if key.last_used_at else None,
        "revoked_at": key.revoked_at.isoformat() if key.revoked_at else None,
        "is_active": key.revoked_at is None,
    }


def _when(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "never"


def _line(key: ApiKey) -> str:
    state = f"revoked {_when(key.revoked_at)}" if key.revoked_at else "active"
    return (
        f"{key.pk:>5}  {key.prefix}…  {key.user.username:<20} {key.name:<24} "
        f"created {_when(key.created_at)}  last used {_when(key.last_used_at)}  {state}"
    )


class Command(LeadloopCommand):
    help = "Users' API keys: list, create (prints the key once), revoke."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("action", choices=["list", "create", "revoke"])
        parser.add_argument("key", nargs="?", help="revoke: the key's id or prefix (llu_…).")
        parser.add_argument("--user", help="Username (list: only theirs; create: required).")
        parser.add_argument("--name", help="create: what the key is for, e.g. 'CRM sync'.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        user = selectors.get_user_by_username(SYSTEM, options["user"]) if options["user"] else None
        if action == "list":
            keys = list(selectors.list_api_keys(SYSTEM, user_id=user.pk if user else None))
            self.emit(
                options,
                [_row(k) for k in keys],
                "\n".join(_line(k) for k in keys) or "No API keys.",
            )
        elif action == "create":
            if user is None or not options["name"]:
                raise CommandError("'apikeys create' needs --user and --name.")
            issued = services.create_api_key(user, name=options["name"], by=CLI)
            self.emit(
                options,
                {**_row(issued.key), "key": issued.raw},
                f"Created API key {issued.key.prefix}… ({issued.key.name}) for "
                f"{user.username}.\nAPI key (shown once): {issued.raw}",
            )
        else:
            if not options["key"]:
                raise CommandError("'apikeys revoke' needs the key's id or prefix.")
            key = services.revoke_api_key(selectors.find_api_key(SYSTEM, options["key"]), by=CLI)
            self.emit(
                options,
                _row(key),
                f"Revoked API key {key.prefix}… ({key.name}) of {key.user.username}.",
            )
