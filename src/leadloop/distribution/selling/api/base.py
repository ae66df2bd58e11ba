"""The router every /api/v1/selling endpoint module registers on, and what they share."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict

from leadloop.accounts.actors import Actor, actor_from_request

router = Router(tags=["selling"])


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")
