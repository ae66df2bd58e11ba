"""`leadloop reassign --from USER (--to USER | --team TEAM) [--reason TEXT]`: hand every open
lead a person works to another person or a team's pool (a rep who leaves or changes teams)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandError, CommandParser

from leadloop.accounts.actors import CLI
from leadloop.accounts.models import Team, User
from leadloop.core.commands import LeadloopCommand
from leadloop.leads import services


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user


class Command(LeadloopCommand):
    help = "Move every open lead of a person to another person or a team's pool, with a reason."

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--from", dest="owner", required=True, help="Whose leads move.")
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--to", help="The user name of the person who takes them.")
        target.add_argument("--team", help="The team whose pool takes them.")
        parser.add_argument("--reason", default="", help="Why, shown on each lead's timeline.")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = _user(options["owner"])
        to = _user(options["to"]) if options["to"] else None
        team = None
        if options["team"]:
            team = Team.objects.filter(name=options["team"]).first()
            if team is None:
                raise CommandError(f"No team {options['team']!r}.")
        result = services.reassign_open_leads(
            owner, by=CLI, to=to, team=team, reason=options["reason"]
        )
        data = {"moved": result.changed, "refused": result.failed}
        where = to.username if to else f"the {team.name} pool" if team else ""
        text = f"Moved {result.changed} open lead(s) of {owner.username} to {where}."
        if result.failed:
            text += f" {len(result.failed)} refused: " + "; ".join(
                f"#{pk} {why}" for pk, why in sorted(result.failed.items())
            )
        self.emit(options, data, text)
        if result.failed and not result.changed:
            raise CommandError("No lead was moved.")
