"""The routers of the leads API and what its endpoints share."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import ConfigDict

from leadloop.accounts.actors import Actor

leads = Router()
organizations = Router()
sources = Router()
campaigns = Router()
lost_reasons = Router()


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


# --- Schemas -------------------------------------------------------------------------------------


class Strict(Schema):
    model_config = ConfigDict(extra="forbid")
