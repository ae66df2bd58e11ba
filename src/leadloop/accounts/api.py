"""/api/v1/me: who the caller is."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from leadloop.accounts.actors import SourceActor, SystemActor

router = Router()


class MeOut(Schema):
    kind: str
    id: int
    name: str
    role: str | None = None
    team_id: int | None = None
    partner_id: int | None = None


@router.get("", response=MeOut, summary="The authenticated user or source key")
def me(request: HttpRequest) -> MeOut:
    from leadloop.api import actor_of

    actor = actor_of(request)
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
