"""The router every /api/v1/distribution endpoint module registers on, and what they share."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict

from leadloop.accounts.actors import Actor

router = Router(tags=["distribution"])


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")
