"""A user's private calendar feed: an iCalendar (RFC 5545) address of their open tasks, for the
phone's or the desktop's calendar app.

The address carries a random token and is the only credential (calendar apps cannot log in), so
only the token's SHA-256 hash is stored: the raw address is shown once, when it is made. Making
a new one or revoking it ends the old address at once. Calls and meetings are events with a
start and an end; the other tasks are to-dos with a due time (some calendar apps show events
only).
"""

from __future__ import annotations

import datetime as dt
import hmac
from urllib.parse import urlsplit

import icalendar
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import get_defaults, lead_visibility
from leadloop.accounts.services import hash_key, new_secret
from leadloop.errors import NotAllowed
from leadloop.sales.models import OPEN_TASK, CalendarFeed, Task, TaskKind
from leadloop.sales.selectors.my_day import via_lead

# The window of tasks a feed holds, around now.
FEED_PAST = dt.timedelta(days=14)
FEED_AHEAD = dt.timedelta(days=90)
FEED_MAX_TASKS = 2000
# "llc_" + token_urlsafe(32); the log filter masks anything of this shape (core.logredact).
TOKEN_KIND = "c"  # noqa: S105 (the kind letter of the secret, not a secret)
MAX_TOKEN = 100
EVENT_KINDS = frozenset({TaskKind.CALL, TaskKind.MEETING})


def _check(user: User) -> None:
    if not user.is_active:
        raise NotAllowed(_("This account is not active."))
    require(user, Permission.FOLLOW_UP_LEADS)


@transaction.atomic
def issue_feed(user: User) -> str:
    """A new calendar address for `user`, replacing any old one; the raw token, shown once."""
    _check(user)
    raw, _prefix = new_secret(TOKEN_KIND)
    CalendarFeed.objects.filter(user=user).delete()
    CalendarFeed.objects.create(user=user, token_hash=hash_key(raw), created_at=timezone.now())
    return raw


def revoke_feed(user: User) -> bool:
    """End `user`'s calendar address; whether there was one."""
    deleted, _rows = CalendarFeed.objects.filter(user=user).delete()
    return bool(deleted)


def get_feed(user: User) -> CalendarFeed | None:
    """The user's feed, if they made one (its hash and date; the address itself is gone)."""
    return CalendarFeed.objects.filter(user=user).first()


def feed_url(raw: str) -> str:
    """The full address a calendar app subscribes to."""
    path = reverse("sales:calendar-feed", kwargs={"feed_token": raw})
    return f"{settings.LEADLOOP_BASE_URL}{path}"


def feed_user(raw: str) -> User | None:
    """The active user whose feed token `raw` is; None for an unknown or revoked token.

    The lookup is by hash, so the raw token is never compared with anything stored; the hash
    comparison after it runs in constant time all the same."""
    if not raw or len(raw) > MAX_TOKEN or not raw.startswith(f"ll{TOKEN_KIND}_"):
        return None
    digest = hash_key(raw)
    feed = (
        CalendarFeed.objects.select_related("user")
        .filter(token_hash=digest, user__is_active=True)
        .first()
    )
    if feed is None or not hmac.compare_digest(feed.token_hash, digest):
        return None
    return feed.user


def _summary(task: Task) -> str:
    name = str(task.lead)
    labels = {
        TaskKind.CALL: _("Call: %(lead)s"),
        TaskKind.MEETING: _("Meeting: %(lead)s"),
        TaskKind.EMAIL: _("E-mail: %(lead)s"),
        TaskKind.SEND_QUOTE: _("Send quote: %(lead)s"),
    }
    return str(labels.get(TaskKind(task.kind), _("To do: %(lead)s"))) % {"lead": name}


def _component(task: Task, *, host: str, stamp: dt.datetime) -> icalendar.Component:
    lead_url = f"{settings.LEADLOOP_BASE_URL}/leads/{task.lead_id}/"
    if task.kind in EVENT_KINDS:
        item: icalendar.Component = icalendar.Event()
        item.add("dtstart", task.due_at)
        item.add("dtend", task.due_at + dt.timedelta(minutes=task.duration_minutes))
    else:
        item = icalendar.Todo()
        item.add("dtstart", task.due_at)
        item.add("due", task.due_at + dt.timedelta(minutes=task.duration_minutes))
    item.add("uid", f"task-{task.pk}@{host}")
    item.add("dtstamp", stamp)
    # Each snooze or reschedule is a new version of the event, so apps take the new time.
    item.add("sequence", len(task.history))
    item.add("summary", _summary(task))
    item.add("url", lead_url)
    lines = [task.title] if task.title else []
    lines.append(lead_url)
    item.add("description", "\n".join(lines))
    return item


def render_calendar(user: User, *, now: dt.datetime | None = None) -> bytes:
    """The user's open tasks from two weeks back to three months ahead, on leads they still
    see, as an iCalendar document."""
    now = now or timezone.now()
    host = urlsplit(settings.LEADLOOP_BASE_URL).hostname or "leadloop"
    tasks = (
        Task.objects.filter(OPEN_TASK, owner_id=user.pk)
        .filter(due_at__gte=now - FEED_PAST, due_at__lt=now + FEED_AHEAD)
        .filter(via_lead(lead_visibility(user)))
        .select_related("lead")
        .order_by("due_at", "id")[:FEED_MAX_TASKS]
    )
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Leadloop//Follow-up tasks//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    with override(user.language or get_defaults().language):
        calendar.add("x-wr-calname", _("Leadloop: %(name)s") % {"name": user.display_name})
        # Calendar apps poll a subscribed feed; every 15 minutes is what they are asked for.
        calendar.add("refresh-interval", dt.timedelta(minutes=15), parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", "PT15M")
        for task in tasks:
            calendar.add_component(_component(task, host=host, stamp=now))
    return bytes(calendar.to_ical())
