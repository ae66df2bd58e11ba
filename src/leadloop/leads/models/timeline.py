"""A lead's append-only timeline, and the list views a user keeps."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadloop.core.labels import label, stored_message
from leadloop.leads.models.choices import ActivityKind, ActorKind
from leadloop.leads.models.lead import Lead


class Activity(models.Model):
    """One entry on a lead's timeline. Append-only: never updated, never deleted."""

    # Indexed by activity_timeline, which starts with the lead.
    lead = models.ForeignKey(
        Lead, db_index=False, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,  # partial index below: sources and the system write most entries
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-created_at", "-id"], name="activity_timeline"),
            models.Index(
                fields=["actor_user"], name="activity_actor", condition=Q(actor_user__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def actor_shown(self) -> str:
        """Who did it, in the reader's language: a person's or a source's name as stored, the
        system by a translated word (its stored label is the stable "system")."""
        if self.actor_kind == ActorKind.SYSTEM and self.actor_label:
            return label("actor", self.actor_label)
        return self.actor_label or str(self.get_actor_kind_display())

    @property
    def message_shown(self) -> str:
        """The message in the reader's language when the system wrote a marked message id
        (a readiness summary); a person's note as they wrote it."""
        if self.actor_kind == ActorKind.SYSTEM:
            return stored_message(self.message)
        return self.message

    @property
    def order_value(self) -> Decimal | None:
        """The order value of a won lead, stored as text in `data`."""
        try:
            return Decimal(str(self.data["order_value"]))
        except (KeyError, TypeError, InvalidOperation):
            return None


class SavedView(models.Model):
    """A named set of lead-list filters a user keeps for one click."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
