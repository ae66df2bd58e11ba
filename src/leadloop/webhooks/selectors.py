"""Reads of subscriptions and their delivery log: admins only (they carry lead data)."""

from __future__ import annotations

from django.db.models import Count, Max, Q, QuerySet
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
    return Subscription.objects.annotate(
        waiting=Count("deliveries", filter=Q(deliveries__state__in=["pending", "sending"])),
        failed=Count("deliveries", filter=Q(deliveries__state=DeliveryState.FAILED)),
        last_delivered_at=Max("deliveries__delivered_at"),
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
