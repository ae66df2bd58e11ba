from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from leadloop.accounts import services
from leadloop.accounts.actors import CLI
from leadloop.accounts.models import Role
from leadloop.core.commands import LeadloopCommand


class Command(LeadloopCommand):
    help = "Create a user with a role; --api-key also issues an API key and prints it once."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--password", help="Without it the user cannot log in to the UI.")
        parser.add_argument("--email", default="")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--team", help="Team name (created when missing).")
        parser.add_argument("--partner", help="Partner organisation name (created when missing).")
        parser.add_argument("--language", default="", choices=["", "en", "nl"])
        parser.add_argument(
            "--time-zone",
            default=None,
            help="IANA zone the UI shows times in (default: deployment's).",
        )
        parser.add_argument("--api-key", action="store_true", help="Issue an API key and print it.")

    def handle(self, *args: Any, **options: Any) -> None:
        team = services.get_or_create_team(name=options["team"]) if options["team"] else None
        partner = (
            services.get_or_create_partner(name=options["partner"]) if options["partner"] else None
        )
        user = services.create_user(
            username=options["username"],
            role=options["role"],
            password=options["password"],
            email=options["email"],
            first_name=options["first_name"],
            last_name=options["last_name"],
            team=team,
            partner=partner,
            language=options["language"],
            time_zone=options["time_zone"],
            by=CLI,
        )
        if options["role"] == Role.SALES_MANAGER and team is not None:
            services.get_or_create_team(name=team.name, manager=user)
        key = services.issue_api_key(user).raw if options["api_key"] else None
        data = {"id": user.pk, "username": user.username, "role": user.role, "api_key": key}
        text = f"Created {user.role} {user.username} (id {user.pk})."
        if key:
            text += f"\nAPI key (shown once): {key}"
        self.emit(options, data, text)
