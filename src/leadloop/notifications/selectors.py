"""Reads of a user's own notifications: only ever their own."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from leadloop.accounts.models import User
from leadloop.notifications.models import EmailChoice, Notification, Preference


def list_for(actor: Any) -> QuerySet[Notification]:
    """`actor`'s notifications, newest first (nobody else's, whoever asks)."""
    if not isinstance(actor, User) or not actor.is_active:
        return Notification.objects.none()
    return Notification.objects.filter(user=actor).order_by("-created_at", "-id")


def count_unread(actor: Any) -> int:
    """Unread notifications of `actor` (the menu badge; capped like the other badges)."""
    from leadloop.core.navigation import BADGE_CAP

    return list_for(actor).filter(read_at__isnull=True)[: BADGE_CAP + 1].count()


def email_choice(user: User) -> str:
    found = Preference.objects.filter(user=user).values_list("email", flat=True).first()
    return found or EmailChoice.IMMEDIATE
