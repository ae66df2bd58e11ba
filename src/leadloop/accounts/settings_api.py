"""/api/v1/teams, /api/v1/partners and /api/v1/defaults: what the settings pages manage, for
admins (MANAGE_USERS); everyone else gets 403. Each change is audited by its service.
/api/v1/partners/fields lists the keys a partner's `visible_fields` may hold."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts import selectors, services
from leadloop.accounts.actors import Actor
from leadloop.accounts.defaults import Defaults
from leadloop.accounts.lead_fields import DEFAULT_VISIBLE, GROUPS, LEAD_FIELDS
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed

teams = Router()
partners = Router()
defaults = Router()


def _admin(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    actor = actor_from_request(request)
    require(actor, Permission.MANAGE_USERS)
    return actor


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")


# --- Teams ---------------------------------------------------------------------------------------


class TeamOut(Schema):
    id: int
    name: str
    manager_id: int | None
    member_ids: list[int]


class TeamIn(Strict):
    name: str = Field(max_length=200)
    manager_id: int | None = None


class TeamChangeIn(Strict):
    name: str | None = Field(None, max_length=200)
    manager_id: int | None = Field(None, description="0 leaves the team without a manager")
    member_ids: list[int] | None = Field(None, description="Exactly these members")


def team_out(team: Team) -> TeamOut:
    members = sorted(m.pk for m in team.members.all())
    return TeamOut(id=team.pk, name=team.name, manager_id=team.manager_id, member_ids=members)


def _staff(actor: Actor, ids: list[int], *, field: str) -> list[User]:
    """The active staff users with these ids; an unknown id is a field error."""
    found = {u.pk: u for u in selectors.list_team_candidates(actor).filter(pk__in=ids)}
    unknown = [pk for pk in ids if pk not in found]
    if unknown:
        message = _("Unknown or inactive users: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
        raise ValidationFailed(message, errors={field: [message]})
    return [found[pk] for pk in ids]


def _manager(actor: Actor, manager_id: int | None) -> User | None:
    return _staff(actor, [manager_id], field="manager_id")[0] if manager_id else None


@teams.get("", response=list[TeamOut], summary="Every team (admins)")
def list_teams(request: HttpRequest) -> list[TeamOut]:
    actor = _admin(request)
    return [team_out(t) for t in selectors.list_all_teams(actor).prefetch_related("members")]


@teams.post("", response={201: TeamOut}, summary="Add a team")
def create_team(request: HttpRequest, payload: TeamIn) -> Status[TeamOut]:
    actor = _admin(request)
    manager = _manager(actor, payload.manager_id)
    return Status(201, team_out(services.create_team(by=actor, name=payload.name, manager=manager)))


@teams.patch("/{team_id}", response=TeamOut, summary="Rename a team, set its manager, members")
def update_team(request: HttpRequest, team_id: int, payload: TeamChangeIn) -> TeamOut:
    actor = _admin(request)
    team = selectors.get_team_for_admin(actor, team_id)
    given = payload.model_dump(exclude_unset=True)
    members = (
        _staff(actor, given["member_ids"] or [], field="member_ids")
        if "member_ids" in given
        else list(team.members.all())
    )
    changed = services.change_team(
        team,
        by=actor,
        name=given.get("name") or team.name,
        manager=_manager(actor, given["manager_id"]) if "manager_id" in given else team.manager,
        members=members,
    )
    return team_out(changed)


# --- Partner organisations -----------------------------------------------------------------------


class PartnerOut(Schema):
    id: int
    name: str
    is_active: bool
    visible_fields: list[str] = Field(
        description="Keys of the lead fields its users see (GET /api/v1/partners/fields)"
    )


class PartnerIn(Strict):
    name: str = Field(max_length=200)
    visible_fields: list[str] | None = Field(None, description="The default list when left out")


class PartnerChangeIn(Strict):
    name: str | None = Field(None, max_length=200)
    is_active: bool | None = Field(None, description="An inactive partner gets no new leads")
    visible_fields: list[str] | None = Field(
        None, description="Exactly these keys; an unknown key is refused (422)"
    )


class LeadFieldOut(Schema):
    key: str
    label: str
    group: str
    group_label: str
    is_default: bool


def partner_out(partner: PartnerOrganization) -> PartnerOut:
    return PartnerOut(
        id=partner.pk,
        name=partner.name,
        is_active=partner.is_active,
        visible_fields=list(partner.visible_fields or []),
    )


@partners.get("", response=list[PartnerOut], summary="Every partner organisation (admins)")
def list_partners(request: HttpRequest) -> list[PartnerOut]:
    return [partner_out(p) for p in selectors.list_partners(_admin(request))]


@partners.get(
    "/fields", response=list[LeadFieldOut], summary="The lead fields a partner's list may show"
)
def list_lead_fields(request: HttpRequest) -> list[LeadFieldOut]:
    _admin(request)
    return [
        LeadFieldOut(
            key=field.key,
            label=str(field.label),
            group=field.group,
            group_label=str(GROUPS[field.group]),
            is_default=field.key in DEFAULT_VISIBLE,
        )
        for field in LEAD_FIELDS
    ]


@partners.post("", response={201: PartnerOut}, summary="Add a partner organisation")
def create_partner(request: HttpRequest, payload: PartnerIn) -> Status[PartnerOut]:
    actor = _admin(request)
    partner = services.create_partner(
        by=actor, name=payload.name, visible_fields=payload.visible_fields
    )
    return Status(201, partner_out(partner))


@partners.patch(
    "/{partner_id}",
    response=PartnerOut,
    summary="Rename or (de)activate a partner, or set the fields its users see",
)
def update_partner(request: HttpRequest, partner_id: int, payload: PartnerChangeIn) -> PartnerOut:
    actor = _admin(request)
    partner = selectors.get_partner_for_admin(actor, partner_id)
    name = partner.name if payload.name is None else payload.name
    active = partner.is_active if payload.is_active is None else payload.is_active
    changed = services.change_partner(
        partner, by=actor, name=name, is_active=active, visible_fields=payload.visible_fields
    )
    return partner_out(changed)


# --- Deployment defaults -------------------------------------------------------------------------


class DefaultsOut(Schema):
    language: str = Field(description="One of the languages the UI speaks (LANGUAGES)")
    country: str = Field(description="ISO 3166-1 alpha-2, for phones and postal codes")
    currency: str = Field(description="ISO 4217, for amounts without a currency")
    time_zone: str = Field(description="IANA zone, for users without their own")


class DefaultsIn(Strict):
    language: str | None = None
    country: str | None = Field(None, max_length=2)
    currency: str | None = Field(None, max_length=3)
    time_zone: str | None = Field(None, max_length=64)


def defaults_out(values: Defaults) -> DefaultsOut:
    return DefaultsOut(
        language=values.language,
        country=values.country,
        currency=values.currency,
        time_zone=values.time_zone,
    )


@defaults.get("", response=DefaultsOut, summary="The deployment's defaults (admins)")
def get_defaults(request: HttpRequest) -> DefaultsOut:
    _admin(request)
    return defaults_out(selectors.get_defaults())


@defaults.patch("", response=DefaultsOut, summary="Change the deployment's defaults")
def update_defaults(request: HttpRequest, payload: DefaultsIn) -> DefaultsOut:
    actor = _admin(request)
    changes = payload.model_dump(exclude_unset=True)
    return defaults_out(services.change_defaults(by=actor, **changes))
