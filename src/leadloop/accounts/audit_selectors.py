"""Reading the audit log: admins (and the operator's CLI) only, newest first, in pages."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import AuditEvent
from leadloop.accounts.permissions import Permission, can
from leadloop.core.paging import Keyset, Page, paginate
from leadloop.errors import NotAllowed

PAGE_SIZE = 50
MAX_PAGE = 500


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log can be narrowed to; the page, the API and the CLI parse into this."""

    actor: str = ""
    action: str = ""
    target_type: str = ""
    target_id: str = ""
    since: dt.date | None = None
    until: dt.date | None = None
    q: str = ""


@dataclass(frozen=True)
class AuditPage:
    items: list[AuditEvent]
    next_before: int | None


def can_read_audit(actor: Actor) -> bool:
    """The audit log is for admins and the operator: it says who looked at what."""
    return can(actor, Permission.VIEW_AUDIT)


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _filtered(filters: AuditFilters) -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if filters.actor:
        events = events.filter(actor_label=filters.actor)
    if filters.action:
        events = events.filter(action=filters.action)
    if filters.target_type:
        events = events.filter(target_type=filters.target_type)
    if filters.target_id:
        events = events.filter(target_id=filters.target_id)
    # Days are the reader's days: from the start of `since` to the end of `until`, in their zone.
    if filters.since:
        events = events.filter(at__gte=_start_of(filters.since))
    if filters.until:
        events = events.filter(at__lt=_start_of(filters.until + dt.timedelta(days=1)))
    if filters.q:
        events = events.filter(target_label__icontains=filters.q)
    return events


def list_audit_events(
    actor: Actor, filters: AuditFilters, *, before: int | None = None, limit: int = PAGE_SIZE
) -> AuditPage:
    """One page of the events matching `filters`, newest first; `before` is the id the previous
    page ended at (keyset paging: page 1,000 costs what page 1 does). NotAllowed for non-admins."""
    if not can_read_audit(actor):
        raise NotAllowed(_("Only admins can read the audit log."))
    limit = max(1, min(limit, MAX_PAGE))
    events = _filtered(filters)
    if before is not None:
        events = events.filter(pk__lt=before)
    rows = list(events.order_by("-id")[: limit + 1])
    more = len(rows) > limit
    items = rows[:limit]
    return AuditPage(items=items, next_before=items[-1].pk if more else None)


# The page pages by id, newest first, both ways with a position (core.paging); the API and the
# CLI keep `before`, the id a page ended at.
AUDIT_ORDER = Keyset((), ())
COUNT_CAP = 1_000


def list_audit_page(
    actor: Actor, filters: AuditFilters, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> tuple[Page[AuditEvent], int, bool]:
    """One page of the events for the audit page, with their number counted up to 1,000 and a
    flag that says there are more. NotAllowed for non-admins."""
    if not can_read_audit(actor):
        raise NotAllowed(_("Only admins can read the audit log."))
    events = _filtered(filters)
    page = paginate(events, AUDIT_ORDER, cursor=cursor, limit=max(1, min(limit, MAX_PAGE)))
    total = events.order_by().values("pk")[: COUNT_CAP + 1].count()
    return page, min(total, COUNT_CAP), total > COUNT_CAP
