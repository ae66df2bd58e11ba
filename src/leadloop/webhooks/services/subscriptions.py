"""Subscriptions: an admin names an endpoint and the events it wants; Leadloop makes the signing
secret, shows it once, and keeps it encrypted. Replaying and test sends live here too."""

from __future__ import annotations

import base64
import datetime as dt
import secrets as random_bytes
import urllib.parse
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, User
from leadloop.accounts.permissions import Permission, require
from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.core.secrets import decrypt, encrypt, reencrypt
from leadloop.errors import ValidationFailed
from leadloop.webhooks.catalog import TEST_TYPE, unknown_types
from leadloop.webhooks.models import Delivery, DeliveryState, Subscription
from leadloop.webhooks.services import outbox, sending

AUDIT_TARGET = "webhook"
# How long the old secret signs beside a new one.
OVERLAP = dt.timedelta(hours=24)
MAX_REPLAY = 10_000


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(random_bytes.token_bytes(32)).decode()


def clean_url(url: str) -> str:
    """An https address on the public internet (http and private hosts only where the operator
    allows private hosts, for development and intranets)."""
    url = (url or "").strip()
    parts = urllib.parse.urlsplit(url)
    allowed = ("https", "http") if settings.LEADLOOP_ALLOW_PRIVATE_HOSTS else ("https",)
    problem = ""
    if len(url) > 500:
        problem = _("At most 500 characters.")
    elif parts.scheme not in allowed or not parts.hostname:
        problem = _("Enter an https:// address.")
    elif parts.username or parts.password:
        problem = _("Leave credentials out of the address: check the signature instead.")
    else:
        try:
            refuse_private_host(parts.hostname)
        except PrivateHostError as exc:
            problem = str(exc)
    if problem:
        raise ValidationFailed(problem, errors={"url": [problem]})
    return url


def clean_events(events: Iterable[str]) -> list[str]:
    chosen = sorted(set(events))
    unknown = unknown_types(chosen)
    if unknown:
        message = _("Unknown event types: %(names)s.") % {"names": ", ".join(unknown[:10])}
        raise ValidationFailed(message, errors={"events": [message]})
    if not chosen:
        message = _("Choose at least one event.")
        raise ValidationFailed(message, errors={"events": [message]})
    return chosen


def _forget() -> None:
    """Read the subscriptions afresh in this process now, and again once the change commits."""
    outbox.forget()
    transaction.on_commit(outbox.forget)


def _audit(by: Actor, subscription: Subscription, what: str, **data: object) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=AUDIT_TARGET,
        target_id=subscription.pk,
        target_label=urllib.parse.urlsplit(subscription.url).hostname or "",
        data={"change": what, **data},
    )


@transaction.atomic
def create_subscription(
    *, by: Actor, url: str, events: Iterable[str], description: str = "", is_active: bool = True
) -> tuple[Subscription, str]:
    """A new subscription and its secret (returned this once; stored encrypted)."""
    require(by, Permission.MANAGE_WEBHOOKS)
    secret = new_secret()
    now = timezone.now()
    subscription = Subscription.objects.create(
        url=clean_url(url),
        events=clean_events(events),
        description=" ".join(description.split())[:200],
        secret_encrypted=encrypt(secret),
        is_active=is_active,
        created_by=by if isinstance(by, User) else None,
        created_at=now,
        updated_at=now,
    )
    _audit(by, subscription, "created", events=subscription.events)
    _forget()
    return subscription, secret


@transaction.atomic
def update_subscription(
    subscription: Subscription,
    *,
    by: Actor,
    url: str | None = None,
    events: Iterable[str] | None = None,
    description: str | None = None,
    is_active: bool | None = None,
) -> Subscription:
    require(by, Permission.MANAGE_WEBHOOKS)
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    changed = []
    if url is not None and url.strip() != locked.url:
        locked.url = clean_url(url)
        changed.append("url")
    if events is not None:
        chosen = clean_events(events)
        if chosen != locked.events:
            locked.events = chosen
            changed.append("events")
    if description is not None and " ".join(description.split())[:200] != locked.description:
        locked.description = " ".join(description.split())[:200]
        changed.append("description")
    if is_active is not None and is_active != locked.is_active:
        locked.is_active = is_active
        changed.append("is_active")
        if is_active:
            # Deliveries that waited while it was paused go out now.
            Delivery.objects.filter(subscription=locked, state=DeliveryState.PENDING).update(
                next_attempt_at=timezone.now()
            )
    if changed:
        locked.updated_at = timezone.now()
        locked.save()
        _audit(by, locked, "changed", fields=changed, events=locked.events)
        _forget()
    return locked


@transaction.atomic
def delete_subscription(subscription: Subscription, *, by: Actor) -> None:
    """Remove the subscription with its delivery log (the messages other endpoints got stay)."""
    require(by, Permission.MANAGE_WEBHOOKS)
    _audit(by, subscription, "deleted")
    subscription.delete()
    _forget()


@transaction.atomic
def rotate_secret(subscription: Subscription, *, by: Actor) -> str:
    """A new secret (returned this once). Every delivery is signed with it at once, and for
    OVERLAP also with the old one, so the receiver can switch to the new secret in that time."""
    require(by, Permission.MANAGE_WEBHOOKS)
    secret = new_secret()
    now = timezone.now()
    locked = Subscription.objects.select_for_update().get(pk=subscription.pk)
    Subscription.objects.filter(pk=subscription.pk).update(
        secret_encrypted=encrypt(secret),
        previous_secret_encrypted=locked.secret_encrypted,
        previous_until=now + OVERLAP,
        updated_at=now,
    )
    _audit(by, subscription, "secret rotated")
    return secret


def reveal_secret(subscription: Subscription, *, by: Actor) -> str:
    """The secret, for an admin who lost it (audited)."""
    require(by, Permission.MANAGE_WEBHOOKS)
    _audit(by, subscription, "secret shown")
    return decrypt(subscription.secret_encrypted)


def send_test(subscription: Subscription, *, by: Actor) -> Delivery:
    """Send a `webhook.test` event to this subscription now, and return its delivery."""
    require(by, Permission.MANAGE_WEBHOOKS)
    now = timezone.now()
    with transaction.atomic():
        ids = outbox.emit(
            [
                outbox.Outgoing(
                    TEST_TYPE,
                    {"subscription_id": subscription.pk, "sent_by": str(by)},
                    now,
                )
            ],
            only=[subscription.pk],
        )
    if subscription.is_active:
        sending.send(ids[0])
    return Delivery.objects.select_related("message").get(pk=ids[0])


@transaction.atomic
def replay(delivery: Delivery, *, by: Actor) -> Delivery:
    """Send a delivery again from the start of the schedule, with the same `webhook-id`."""
    require(by, Permission.MANAGE_WEBHOOKS)
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=now, changed_at=now
    )
    _audit(by, delivery.subscription, "replayed", delivery=delivery.pk)
    transaction.on_commit(lambda: outbox.queue([delivery.pk]))
    delivery.refresh_from_db()
    return delivery


@transaction.atomic
def replay_failed(subscription: Subscription, *, by: Actor) -> int:
    """Replay every delivery to this subscription that gave up (after an outage is fixed)."""
    require(by, Permission.MANAGE_WEBHOOKS)
    now = timezone.now()
    ids = list(
        Delivery.objects.filter(subscription=subscription, state=DeliveryState.FAILED)
        .order_by("id")
        .values_list("pk", flat=True)[:MAX_REPLAY]
    )
    Delivery.objects.filter(pk__in=ids).update(
        state=DeliveryState.PENDING, attempts=0, next_attempt_at=now, changed_at=now
    )
    if ids:
        _audit(by, subscription, "replayed failed", count=len(ids))
        transaction.on_commit(lambda: outbox.queue(ids))
    return len(ids)


def reencrypt_secrets() -> int:
    """Encrypt every stored signing secret again with the first key (`leadloop secrets rotate`)."""
    count = 0
    rows = Subscription.objects.values_list("pk", "secret_encrypted", "previous_secret_encrypted")
    for pk, token, previous in rows:
        Subscription.objects.filter(pk=pk).update(
            secret_encrypted=reencrypt(token),
            previous_secret_encrypted=reencrypt(previous) if previous else "",
        )
        count += 1
    return count
