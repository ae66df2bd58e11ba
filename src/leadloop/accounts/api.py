"""/api/v1/me: who the caller is, and their API keys; /api/v1/api-keys: everyone's, for admins;
/api/v1/users: the users, for admins."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts import selectors, services
from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import ApiKey, User
from leadloop.errors import NotAllowed, ValidationFailed

router = Router()
api_keys = Router()
users = Router()


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


def _user(request: HttpRequest) -> User:
    """The person calling; a source key has no API keys of its own."""
    actor = _actor(request)
    if not isinstance(actor, User):
        raise NotAllowed("A source key cannot manage API keys.")
    return actor


def _key_maker(request: HttpRequest) -> User:
    """The person making a key, from a logged-in session only: a key that could mint keys would
    outlive its own revocation through the keys it made."""
    user = _user(request)
    if request.headers.get("X-API-Key") or request.headers.get("Authorization"):
        raise NotAllowed("API keys are made from a logged-in session, not with another key.")
    return user


class MeOut(Schema):
    kind: str
    id: int
    name: str
    role: str | None = None
    team_id: int | None = None
    partner_id: int | None = None


@router.get("", response=MeOut, summary="The authenticated user or source key")
def me(request: HttpRequest) -> MeOut:
    actor = _actor(request)
    if isinstance(actor, SourceActor):
        return MeOut(kind="source", id=actor.source_id, name=actor.source_name)
    if isinstance(actor, SystemActor):  # never authenticated over HTTP; keeps the type exact
        return MeOut(kind="system", id=0, name=actor.label)
    return MeOut(
        kind="user",
        id=actor.pk,
        name=actor.display_name,
        role=actor.role,
        team_id=actor.team_id,
        partner_id=actor.partner_id,
    )


# --- API keys ------------------------------------------------------------------------------------


class KeyOwner(Schema):
    id: int
    username: str


class ApiKeyOut(Schema):
    id: int
    name: str
    prefix: str = Field(description="The key's first characters, to recognise it")
    user: KeyOwner
    created_at: dt.datetime
    last_used_at: dt.datetime | None = Field(description="To the minute")
    revoked_at: dt.datetime | None
    is_active: bool


class NewKeyIn(Schema):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(max_length=100, description="What the key is for, e.g. 'CRM sync'")


class NewKeyForUserIn(NewKeyIn):
    user_id: int | None = Field(None, description="Admins only: whose key (default: your own)")


class NewKeyOut(Schema):
    api_key: ApiKeyOut
    key: str = Field(description="Shown once; only its hash is stored")


class KeyQuery(Schema):
    user_id: int | None = Field(None, description="Admins: one user's keys")


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.pk,
        name=key.name,
        prefix=key.prefix,
        user=KeyOwner(id=key.user.pk, username=key.user.username),
        created_at=key.created_at,
        last_used_at=key.last_used_at,
        revoked_at=key.revoked_at,
        is_active=key.revoked_at is None,
    )


@router.get("/api-keys", response=list[ApiKeyOut], summary="Your API keys")
def list_my_keys(request: HttpRequest) -> list[ApiKeyOut]:
    user = _user(request)
    return [key_out(k) for k in selectors.list_api_keys(user, user_id=user.pk)]


@router.post("/api-keys", response={201: NewKeyOut}, summary="Make yourself a new API key")
def create_my_key(request: HttpRequest, payload: NewKeyIn) -> Status[NewKeyOut]:
    user = _key_maker(request)
    issued = services.create_api_key(user, name=payload.name, by=user)
    return Status(201, NewKeyOut(api_key=key_out(issued.key), key=issued.raw))


@router.delete("/api-keys/{key_id}", response=ApiKeyOut, summary="Revoke one of your API keys")
def revoke_my_key(request: HttpRequest, key_id: int) -> ApiKeyOut:
    user = _user(request)
    key = selectors.get_api_key_for(user, key_id, user_id=user.pk)
    return key_out(services.revoke_api_key(key, by=user))


@api_keys.get("", response=list[ApiKeyOut], summary="API keys: an admin's all, others' own")
def list_keys(request: HttpRequest, query: Query[KeyQuery]) -> list[ApiKeyOut]:
    return [key_out(k) for k in selectors.list_api_keys(_user(request), user_id=query.user_id)]


@api_keys.post("", response={201: NewKeyOut}, summary="Make a key (admins: for any user)")
def create_key(request: HttpRequest, payload: NewKeyForUserIn) -> Status[NewKeyOut]:
    actor = _key_maker(request)
    owner = (
        selectors.get_api_key_owner(actor, payload.user_id, field="user_id")
        if payload.user_id is not None
        else actor
    )
    issued = services.create_api_key(owner, name=payload.name, by=actor)
    return Status(201, NewKeyOut(api_key=key_out(issued.key), key=issued.raw))


@api_keys.get("/{key_id}", response=ApiKeyOut, summary="One API key")
def get_key(request: HttpRequest, key_id: int) -> ApiKeyOut:
    return key_out(selectors.get_api_key_for(_user(request), key_id))


@api_keys.delete("/{key_id}", response=ApiKeyOut, summary="Revoke a key (admins: anyone's)")
def revoke_key(request: HttpRequest, key_id: int) -> ApiKeyOut:
    actor = _user(request)
    return key_out(services.revoke_api_key(selectors.get_api_key_for(actor, key_id), by=actor))


# --- Users (admins) ------------------------------------------------------------------------------


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    role: str
    team_id: int | None
    partner_id: int | None
    language: str
    time_zone: str
    is_active: bool


class UserChangeIn(Schema):
    model_config = ConfigDict(extra="forbid")
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    email: str | None = Field(None, max_length=254)
    role: str | None = None
    team_id: int | None = Field(None, description="0 takes the user out of their team")
    partner_id: int | None = Field(None, description="0 takes the user out of their partner")
    language: str | None = None
    time_zone: str | None = None


class NewUserIn(Schema):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(max_length=150)
    role: str
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    email: str = Field("", max_length=254)
    team_id: int | None = None
    partner_id: int | None = None
    language: str | None = Field(None, description="Default: the deployment's language")
    time_zone: str | None = Field(None, description="Default: the deployment's time zone")


class NewUserOut(Schema):
    user: UserOut
    set_password_path: str = Field(description="A one-time link (path) to set the password")


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.pk,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        role=user.role,
        team_id=user.team_id,
        partner_id=user.partner_id,
        language=user.language,
        time_zone=user.time_zone,
        is_active=user.is_active,
    )


def _links(actor: Actor, team_id: int | None, partner_id: int | None) -> dict[str, Any]:
    """Team and partner rows for the ids given (0: none); an unknown id is a field error."""
    found: dict[str, Any] = {}
    for name, pk, rows, unknown in (
        ("team", team_id, selectors.list_teams(actor), _("Unknown team.")),
        ("partner", partner_id, selectors.list_partners(actor), _("Unknown partner organisation.")),
    ):
        if pk is None:
            continue
        row = rows.filter(pk=pk).first() if pk else None
        if pk and row is None:
            raise ValidationFailed(unknown, errors={f"{name}_id": [unknown]})
        found[name] = row
    return found


@users.get("", response=list[UserOut], summary="Every user (admins)")
def list_users(request: HttpRequest) -> list[UserOut]:
    return [user_out(u) for u in selectors.list_users(_actor(request))]


@users.post("", response={201: NewUserOut}, summary="Add a user and get a set-password link")
def create_user(request: HttpRequest, payload: NewUserIn) -> Status[NewUserOut]:
    actor = _actor(request)
    data = payload.model_dump(exclude={"team_id", "partner_id"})
    links = _links(actor, payload.team_id, payload.partner_id)
    user = services.add_user(by=actor, **data, **links)
    link = services.create_password_link(user, by=actor)
    path = reverse("accounts:set-password", args=[link.uidb64, link.token])
    return Status(201, NewUserOut(user=user_out(user), set_password_path=path))


@users.patch("/{user_id}", response=UserOut, summary="Change a user's profile, role, team")
def update_user(request: HttpRequest, user_id: int, payload: UserChangeIn) -> UserOut:
    actor = _actor(request)
    user = selectors.get_user_for_admin(actor, user_id)
    given = payload.model_dump(exclude_unset=True)
    changes = {k: v for k, v in given.items() if k not in {"team_id", "partner_id"}}
    changes.update(_links(actor, given.get("team_id"), given.get("partner_id")))
    return user_out(services.change_user(user, by=actor, **changes))


@users.post("/{user_id}/deactivate", response=UserOut, summary="Deactivate a user")
def deactivate_user(request: HttpRequest, user_id: int) -> UserOut:
    actor = _actor(request)
    user = selectors.get_user_for_admin(actor, user_id)
    return user_out(services.set_user_active(user, active=False, by=actor))


@users.post("/{user_id}/reactivate", response=UserOut, summary="Reactivate a user")
def reactivate_user(request: HttpRequest, user_id: int) -> UserOut:
    actor = _actor(request)
    user = selectors.get_user_for_admin(actor, user_id)
    return user_out(services.set_user_active(user, active=True, by=actor))
