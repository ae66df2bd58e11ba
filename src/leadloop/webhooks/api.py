"""/api/v1/webhooks: subscriptions, their delivery log, replays and test sends (admins)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor
from leadloop.webhooks import selectors
from leadloop.webhooks.catalog import EVENT_TYPES
from leadloop.webhooks.models import Delivery, DeliveryState, Subscription
from leadloop.webhooks.services import subscriptions as services

router = Router(tags=["webhooks"])
PAGE = 100


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


class EventTypeOut(Schema):
    type: str
    description: str


class SubscriptionOut(Schema):
    id: int
    url: str
    description: str
    events: list[str]
    is_active: bool
    created_at: dt.datetime
    updated_at: dt.datetime
    waiting: int = 0
    failed: int = 0
    last_delivered_at: dt.datetime | None = None


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str = Field(description="The signing secret, shown this once.")


class SubscriptionIn(Schema):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(..., max_length=500)
    events: list[str] = Field(..., max_length=50)
    description: str = Field("", max_length=200)
    is_active: bool = True


class SubscriptionPatch(Schema):
    model_config = ConfigDict(extra="forbid")
    url: str | None = Field(None, max_length=500)
    events: list[str] | None = Field(None, max_length=50)
    description: str | None = Field(None, max_length=200)
    is_active: bool | None = None


class SecretOut(Schema):
    secret: str


class CountOut(Schema):
    replayed: int


class AttemptOut(Schema):
    at: dt.datetime
    status_code: int | None
    duration_ms: int
    response: str
    error: str


class DeliveryOut(Schema):
    id: int
    subscription_id: int
    msg_id: str
    type: str
    lead_id: int | None
    state: str
    attempts: int
    next_attempt_at: dt.datetime | None
    last_status: int | None
    last_error: str
    created_at: dt.datetime
    delivered_at: dt.datetime | None


class DeliveryDetailOut(DeliveryOut):
    body: str
    log: list[AttemptOut]


def _subscription(item: Subscription, **extra: object) -> dict[str, object]:
    return {
        "id": item.pk,
        "url": item.url,
        "description": item.description,
        "events": item.events,
        "is_active": item.is_active,
        "created_at": item.created_at,
        "updated_at": item.updated_at,
        "waiting": getattr(item, "waiting", 0),
        "failed": getattr(item, "failed", 0),
        "last_delivered_at": getattr(item, "last_delivered_at", None),
        **extra,
    }


def _delivery(item: Delivery) -> dict[str, object]:
    return {
        "id": item.pk,
        "subscription_id": item.subscription_id,
        "msg_id": item.message.msg_id,
        "type": item.message.type,
        "lead_id": item.message.lead_id,
        "state": item.state,
        "attempts": item.attempts,
        "next_attempt_at": item.next_attempt_at,
        "last_status": item.last_status,
        "last_error": item.last_error,
        "created_at": item.created_at,
        "delivered_at": item.delivered_at,
    }


@router.get("/event-types", response=list[EventTypeOut], url_name="webhooks-event-types")
def event_types(request: HttpRequest) -> list[dict[str, str]]:
    """The events a subscription can ask for."""
    return [{"type": name, "description": str(text)} for name, text in EVENT_TYPES.items()]


@router.get("", response=list[SubscriptionOut], url_name="webhooks")
def list_subscriptions(request: HttpRequest) -> list[dict[str, object]]:
    """Every subscription, with how many deliveries wait and how many gave up (admins)."""
    return [_subscription(item) for item in selectors.list_subscriptions_for(_actor(request))]


@router.post("", response={201: SubscriptionCreatedOut}, url_name="webhooks-create")
def create_subscription(request: HttpRequest, payload: SubscriptionIn) -> Status:
    """Subscribe an https endpoint to events. The answer holds the signing secret, once."""
    item, secret = services.create_subscription(by=_actor(request), **payload.dict())
    return Status(201, _subscription(item, secret=secret))


@router.get("/deliveries", response=list[DeliveryOut], url_name="webhooks-deliveries")
def list_deliveries(
    request: HttpRequest,
    subscription: int | None = None,
    state: DeliveryState | None = None,
    before: int | None = None,
) -> list[dict[str, object]]:
    """The delivery log, newest first, 100 at a time (page on with `before` = the last id)."""
    found = selectors.list_deliveries_for(
        _actor(request), subscription_id=subscription, state=state
    )
    if before is not None:
        found = found.filter(pk__lt=before)
    return [_delivery(item) for item in found[:PAGE]]


@router.get("/deliveries/{delivery_id}", response=DeliveryDetailOut, url_name="webhooks-delivery")
def get_delivery(request: HttpRequest, delivery_id: int) -> dict[str, object]:
    """One delivery: the exact body sent, and every try with the endpoint's answer."""
    item = selectors.get_delivery_for(_actor(request), delivery_id)
    return {
        **_delivery(item),
        "body": item.message.body,
        "log": [
            {
                "at": row.at,
                "status_code": row.status_code,
                "duration_ms": row.duration_ms,
                "response": row.response,
                "error": row.error,
            }
            for row in selectors.attempts_of(item)
        ],
    }


@router.post(
    "/deliveries/{delivery_id}/replay", response=DeliveryOut, url_name="webhooks-delivery-replay"
)
def replay_delivery(request: HttpRequest, delivery_id: int) -> dict[str, object]:
    """Send a delivery again from the start of the retry schedule (same `webhook-id`)."""
    actor = _actor(request)
    item = services.replay(selectors.get_delivery_for(actor, delivery_id), by=actor)
    return _delivery(item)


@router.get("/{subscription_id}", response=SubscriptionOut, url_name="webhooks-subscription")
def get_subscription(request: HttpRequest, subscription_id: int) -> dict[str, object]:
    return _subscription(selectors.get_subscription_for(_actor(request), subscription_id))


@router.patch(
    "/{subscription_id}", response=SubscriptionOut, url_name="webhooks-subscription-update"
)
def update_subscription(
    request: HttpRequest, subscription_id: int, payload: SubscriptionPatch
) -> dict[str, object]:
    """Change the address, the events, the description, or pause and resume."""
    actor = _actor(request)
    item = selectors.get_subscription_for(actor, subscription_id)
    services.update_subscription(item, by=actor, **payload.dict(exclude_unset=True))
    return _subscription(selectors.get_subscription_for(actor, subscription_id))


@router.delete("/{subscription_id}", response={204: None}, url_name="webhooks-subscription-delete")
def delete_subscription(request: HttpRequest, subscription_id: int) -> Status:
    actor = _actor(request)
    services.delete_subscription(selectors.get_subscription_for(actor, subscription_id), by=actor)
    return Status(204, None)


@router.post(
    "/{subscription_id}/rotate-secret", response=SecretOut, url_name="webhooks-rotate-secret"
)
def rotate_secret(request: HttpRequest, subscription_id: int) -> dict[str, str]:
    """A new signing secret, shown this once; the old one signs beside it for 24 hours."""
    actor = _actor(request)
    item = selectors.get_subscription_for(actor, subscription_id)
    return {"secret": services.rotate_secret(item, by=actor)}


@router.post("/{subscription_id}/test", response=DeliveryOut, url_name="webhooks-test")
def send_test(request: HttpRequest, subscription_id: int) -> dict[str, object]:
    """Send a `webhook.test` event now and answer with how it went."""
    actor = _actor(request)
    item = selectors.get_subscription_for(actor, subscription_id)
    return _delivery(services.send_test(item, by=actor))


@router.post(
    "/{subscription_id}/replay-failed", response=CountOut, url_name="webhooks-replay-failed"
)
def replay_failed(request: HttpRequest, subscription_id: int) -> dict[str, int]:
    """Replay every delivery to this endpoint that gave up."""
    actor = _actor(request)
    item = selectors.get_subscription_for(actor, subscription_id)
    return {"replayed": services.replay_failed(item, by=actor)}
