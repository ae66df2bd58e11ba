"""Sources, campaigns and leads, made through the real services."""

from __future__ import annotations

import itertools
from typing import Any

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.assessment import services as assessment_services
from leadloop.leads import services
from leadloop.leads.models import Campaign, ChannelKind, Lead, Organization, Source

_seq = itertools.count(1)


def make_source(
    name: str | None = None,
    *,
    kind: str = ChannelKind.HTTP_POST,
    country: str = "NL",
    **rules: str,
) -> Source:
    """A source; `rules` are its lead rules (minimum_contact, on_invalid) when not the default."""
    return services.create_source(
        name=name or f"Source {next(_seq)}", kind=kind, by=SYSTEM, default_country=country, **rules
    ).source


def make_source_with_key(name: str | None = None, **kwargs: Any) -> tuple[Source, str]:
    created = services.create_source(
        name=name or f"Source {next(_seq)}",
        kind=kwargs.pop("kind", ChannelKind.HTTP_POST),
        by=SYSTEM,
        **kwargs,
    )
    return created.source, created.raw_key


def make_campaign(source: Source, name: str | None = None) -> Campaign:
    return services.create_campaign(source=source, name=name or f"Campaign {next(_seq)}", by=SYSTEM)


def make_organization(
    name: str | None = None, *, parent: Organization | None = None
) -> Organization:
    return services.create_organization(name=name or f"Org {next(_seq)}", parent=parent, by=SYSTEM)


def make_lead(
    source: Source,
    *,
    by: Actor = SYSTEM,
    assigned_to: User | None = None,
    team: Team | None = None,
    partner: PartnerOrganization | None = None,
    at: Any = None,
    **fields: Any,
) -> Lead:
    n = next(_seq)
    data = {"first_name": f"Lead{n}", "last_name": f"Person{n}", **fields}
    lead = assessment_services.create_lead(data, source=source, by=by, at=at)
    if assigned_to is not None or team is not None or partner is not None:
        lead = services.assign_lead(lead, by=SYSTEM, to=assigned_to, team=team, partner=partner)
    return lead
