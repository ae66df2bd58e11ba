"""Outbound webhooks: who wants which lead events (a subscription), each event as the exact
bytes it is sent as (a message), and its way to each subscriber (a delivery, with one row per
try in the delivery log).

`Message.lead_id` is a plain number: webhooks sit below `leads` in the layers, so `leads` can
write the message in the same transaction as the change it tells about.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Subscription(models.Model):
    """An integrator's endpoint: the URL, the event types it wants, and the signing secret."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True, default="")
    events = models.JSONField(_("events"), default=list)
    # The Standard Webhooks secret ("whsec_" + base64), Fernet-encrypted like channel passwords.
    secret_encrypted = models.TextField()
    # After "New secret" the old one signs beside it until `previous_until`, so a receiver can
    # switch without losing deliveries (Standard Webhooks allows several signatures).
    previous_secret_encrypted = models.TextField(blank=True, default="")
    previous_until = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    # When admins were last told that deliveries to this endpoint gave up (at most once a day).
    failure_told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("webhook subscription")

    def __str__(self) -> str:
        return self.url


class Message(models.Model):
    """One event, stored as the body every subscriber receives, byte for byte on every try."""

    msg_id = models.CharField(max_length=40, unique=True)
    type = models.CharField(max_length=40)
    lead_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    body = models.TextField()
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["created_at"], name="webhook_message_created")]

    def __str__(self) -> str:
        return f"{self.msg_id} {self.type}"


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SENDING = "sending", _("Being sent")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Gave up")


class Delivery(models.Model):
    """One message on its way to one subscription: tried on a back-off schedule until the
    endpoint answers 2xx, and then given up (it can be replayed)."""

    subscription = models.ForeignKey(
        Subscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    changed_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["subscription", "message"], name="webhook_delivery_once"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(state__in=["pending", "sending"]),
            ),
            models.Index(fields=["subscription", "-id"], name="webhook_delivery_log"),
            models.Index(fields=["subscription", "state"], name="webhook_delivery_state"),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} → {self.subscription_id}: {self.state}"


class Attempt(models.Model):
    """One try of a delivery: what the endpoint answered (or why it could not be reached)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="log")
    at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    response = models.TextField(blank=True, default="")
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["delivery", "-at"], name="webhook_attempt_delivery")]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}: {self.status_code or self.error}"
