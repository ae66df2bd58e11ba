"""Reads of subscriptions and their delivery log: admins only (they carry lead data)."""

from __future__ import annotations

from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, can
from leadloop.errors import NotFound
from leadloop.webhooks.models import Attempt, Delivery, DeliveryState, Subscription


def can_manage_webhooks(actor: Actor) -> bool:
    return can(actor, Permission.MANAGE_WEBHOOKS)


def list_subscriptions_for(actor: Actor) -> QuerySet[Subscription]:
    """Every subscription with its waiting and given-up counts; none for anyone but an admin."""
    if not can_manage_webhooks(actor):
        return Subscription.objects.none()

    def count(states: list[str]) -> Subquery:
        return Subquery(
            Delivery.objects.filter(subscription=OuterRef("pk"), state__in=states)
            .order_by()
            .values("subscription")
            .annotate(n=Count("pk"))
            .values("n")[:1]
        )

    # Subqueries on the (subscription, state) index, not a join over the whole log.
    last = Delivery.objects.filter(subscription=OuterRef("pk"), state=DeliveryState.DELIVERED)
    return Subscription.objects.annotate(
        waiting=Coalesce(count([DeliveryState.PENDING, DeliveryState.SENDING]), 0),
        failed=Coalesce(count([DeliveryState.FAILED]), 0),
        last_delivered_at=Subquery(last.order_by("-id").values("delivered_at")[:1]),
    ).order_by("id")


def get_subscription_for(actor: Actor, subscription_id: int) -> Subscription:
    found = list_subscriptions_for(actor).filter(pk=subscription_id).first()
    if found is None:
        raise NotFound(_("No such webhook."))
    return found


def list_deliveries_for(
    actor: Actor, *, subscription_id: int | None = None, state: str | None = None
) -> QuerySet[Delivery]:
    """Deliveries, newest first, with their message; none for anyone but an admin."""
    if not can_manage_webhooks(actor):
        return Delivery.objects.none()
    found = Delivery.objects.select_related("message", "subscription").order_by("-id")
    if subscription_id is not None:
        found = found.filter(subscription_id=subscription_id)
    if state:
        found = found.filter(state=state)
    return found


def get_delivery_for(actor: Actor, delivery_id: int) -> Delivery:
    found = list_deliveries_for(actor).filter(pk=delivery_id).first()
    if found is None:
        raise NotFound(_("No such delivery."))
    return found


def attempts_of(delivery: Delivery, *, limit: int = 50) -> list[Attempt]:
    return list(delivery.log.order_by("-at", "-id")[:limit])
