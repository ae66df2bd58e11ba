"""Users, teams and partners, made through the real services."""

from __future__ import annotations

import itertools

from leadloop.accounts import services
from leadloop.accounts.models import PartnerOrganization, Role, Team, User

_seq = itertools.count(1)


def make_user(
    role: str = Role.SALES_REP,
    *,
    team: Team | None = None,
    partner: PartnerOrganization | None = None,
    username: str | None = None,
    password: str | None = "correct-horse-9",
    **fields: str,
) -> User:
    n = next(_seq)
    return services.create_user(
        username=username or f"{role}{n}",
        role=role,
        password=password,
        first_name=fields.pop("first_name", role.replace("_", " ").title()),
        last_name=fields.pop("last_name", f"Number{n}"),
        team=team,
        partner=partner,
        **fields,
    )


def make_team(name: str | None = None, *, manager: User | None = None) -> Team:
    return services.get_or_create_team(name=name or f"Team {next(_seq)}", manager=manager)


def make_partner(name: str | None = None) -> PartnerOrganization:
    return services.get_or_create_partner(name=name or f"Partner {next(_seq)}")
