"""/api/v1/me: who the caller is, and their API keys; /api/v1/api-keys: everyone's, for admins."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts import selectors, services
from leadloop.accounts.actors import Actor, SourceActor, SystemActor
from leadloop.accounts.models import ApiKey, User
from leadloop.errors import NotAllowed

router = Router()
api_keys = Router()


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
