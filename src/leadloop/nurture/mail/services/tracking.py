"""Opens, clicks and unsubscribes coming back from a marketing mail.

The open pixel and the click redirect take the traffic of every mail a campaign sends, so a hit
only appends one narrow row (`TrackingHit`: the message's key, when, from where) inside a short
transaction, and answers. `process_hits`, run by a task a few seconds later (and every minute by
the `process_tracking_hits` job), judges the waiting hits in order, in batches: each becomes a
TrackingEvent with its verdict and its hit row is deleted in the same transaction, so a crash
loses no hit and judges none twice. Only a message's first *human* open and first human click
count as engagement (a timeline entry and a new engagement score, written right after the
batch). Not human:
- Apple Mail Privacy Protection fetches every image of every mail when it arrives, from Apple's
  network (17.0.0.0/8) with the bare user agent "Mozilla/5.0"; opens seconds after sending are
  such prefetches too;
- security scanners (Microsoft Defender, Mimecast, Proofpoint, …) follow every link within
  seconds of delivery, and known bots say so in their user agent;
- repeats: a reload, or a flood of hits from one address, after the first counted one.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SystemActor
from leadloop.assessment import services as assessment
from leadloop.core.retry import enqueue
from leadloop.leads import services as lead_services
from leadloop.leads.models import ActivityKind
from leadloop.nurture import engagement
from leadloop.nurture.mail.models import (
    MarketingMessage,
    SuppressionReason,
    TrackingEvent,
    TrackingHit,
    TrackingKind,
)
from leadloop.nurture.mail.services import suppression

logger = logging.getLogger(__name__)

# The person who got the mail, acting through its links (the timeline names them so).
RECIPIENT = SystemActor(label="recipient")
PROCESS_TASK = "leadloop.nurture.mail.tasks.process_tracking_hits_task"
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
APPLE_PROXY_AGENT = "Mozilla/5.0"
# Apple's and other clients' prefetch of the pixel follows delivery within seconds.
PREFETCH_SECONDS = 5
# A web process asks for the hits to be judged at most this often (one task row), so the
# timeline shows an open within seconds without a task per hit.
NUDGE_SECONDS = 2.0
# Hits judged per transaction: short enough for SQLite's one writer, large enough to be cheap.
BATCH = 500


@dataclass(frozen=True)
class Hit:
    ip: str | None
    user_agent: str
    at: dt.datetime


@lru_cache(maxsize=1)
def _crawlers() -> CrawlerDetect:
    return CrawlerDetect()


def _is_apple_proxy(ip: str | None, user_agent: str) -> bool:
    if user_agent.strip() == APPLE_PROXY_AGENT:
        return True
    try:
        return ip is not None and ipaddress.ip_address(ip) in APPLE_NETWORK
    except ValueError:
        return False


# --- The endpoints: append and answer ----------------------------------------------------------

_last_nudge = [0.0]
_HIT_COLUMNS = ("key", "kind", "link_index", "at", "ip", "user_agent")


@lru_cache(maxsize=1)
def _hit_fields() -> list[models.Field[Any, Any]]:
    return [TrackingHit._meta.get_field(name) for name in _HIT_COLUMNS]  # type: ignore[misc]


@lru_cache(maxsize=4)
def _hit_insert(vendor: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in _hit_fields())
    marks = ", ".join(["%s"] * len(_HIT_COLUMNS))
    table = quote(TrackingHit._meta.db_table)
    return f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608


def _append(key: str, kind: str, index: int | None, hit: Hit) -> None:
    """One INSERT of the hit. The statement is written once and the values prepared by the
    fields themselves: the ORM's `create` cost more than the database did here (profiled)."""
    values = (key, kind, index, hit.at, hit.ip or None, hit.user_agent[:300])
    params = [
        field.get_db_prep_save(value, connection)
        for field, value in zip(_hit_fields(), values, strict=True)
    ]
    # In a transaction so that on SQLite the INSERT queues on the writer lock
    # (core.sqlite_backend) instead of SQLite's busy handler, whose sleeps of up to 100 ms
    # made the p99 of these endpoints 0.7-1.75 s under load.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_hit_insert(connection.vendor), params)
        now = time.monotonic()
        if now - _last_nudge[0] >= NUDGE_SECONDS:
            _last_nudge[0] = now
            _nudge()


def _nudge() -> None:
    """Queue the judging of the waiting hits. Inside the hit's transaction: the database task
    backend's row then shares its commit (an autocommitted one waited in SQLite's busy handler
    and stalled the requests queued behind it); a task that runs before the commit (Redis)
    leaves the hit to the next run."""
    try:
        with transaction.atomic():
            enqueue(PROCESS_TASK)
    except Exception:
        logger.exception("could not queue the judging of tracking hits")


@lru_cache(maxsize=4)
def _links_select(vendor: str) -> str:
    quote = connection.ops.quote_name
    return (
        f"SELECT {quote('links')} FROM {quote(MarketingMessage._meta.db_table)} "  # noqa: S608
        f"WHERE {quote('key')} = %s"
    )


# A mail's links never change once it is queued (erasure blanks them): each web process keeps
# the links of the mails clicked in the last minute, so a second click needs no read.
LINKS_CACHE_SECONDS = 60.0
LINKS_CACHE_SIZE = 10_000
_links_cache: dict[str, tuple[float, list[str]]] = {}


def _links_of(key: str) -> list[str] | None:
    """The stored link addresses of the message with `key`, None when there is none."""
    now = time.monotonic()
    cached = _links_cache.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    links = _read_links(key)
    if links is not None:
        if len(_links_cache) >= LINKS_CACHE_SIZE:
            _links_cache.clear()
        _links_cache[key] = (now + LINKS_CACHE_SECONDS, links)
    return links


def _read_links(key: str) -> list[str] | None:
    """One indexed read of the message's links."""
    with connection.cursor() as cursor:
        cursor.execute(_links_select(connection.vendor), [key])
        row = cursor.fetchone()
    if row is None:
        return None
    # The backends hand JSON columns over as text (Django decodes them in the ORM).
    links = json.loads(row[0]) if isinstance(row[0], str | bytes) else row[0]
    return [str(link) for link in links] if isinstance(links, list) else []


def record_open(key: str, hit: Hit) -> bool:
    """Keep a pixel hit for the message with `key` (a verified token's): one INSERT, no read.
    It is judged by `process_hits`; a hit on a message that no longer exists is dropped there."""
    _append(key, TrackingKind.OPEN, None, hit)
    return True


def record_click(key: str, index: int, hit: Hit) -> str | None:
    """Keep a click on link `index` of the message with `key`; the link's stored address, or
    None when there is no such message or link (the caller answers 404, nothing is kept)."""
    links = _links_of(key)
    if links is None or not 0 <= index < len(links):
        return None
    _append(key, TrackingKind.CLICK, index, hit)
    return str(links[index])


# --- Judging the hits, after the response --------------------------------------------------------


@dataclass
class _Message:
    pk: int
    sent_at: dt.datetime | None
    first_opened_at: dt.datetime | None
    first_clicked_at: dt.datetime | None


def _verdict(message: _Message, hit: TrackingHit) -> str:
    if message.sent_at is None:
        return "unsent"
    after = (hit.at - message.sent_at).total_seconds()
    if hit.kind == TrackingKind.OPEN:
        if _is_apple_proxy(hit.ip, hit.user_agent) or after < PREFETCH_SECONDS:
            return "machine"
        column = "first_opened_at"
    else:
        if after < settings.LEADLOOP_MARKETING_SCANNER_SECONDS:
            return "scanner"
        if hit.user_agent and _crawlers().isCrawler(hit.user_agent):
            return "bot"
        column = "first_clicked_at"
    if getattr(message, column) is not None:
        return "repeat"
    # One judge wins even if two run at once (PostgreSQL, several workers).
    won = MarketingMessage.objects.filter(pk=message.pk, **{f"{column}__isnull": True}).update(
        **{column: hit.at}
    )
    if not won:
        return "repeat"
    setattr(message, column, hit.at)
    return "human"


@transaction.atomic
def _judge_batch(limit: int) -> int:
    """Judge up to `limit` waiting hits, oldest first, and delete them; how many were taken."""
    hits = list(TrackingHit.objects.select_for_update(skip_locked=True).order_by("pk")[:limit])
    if not hits:
        return 0
    messages = {
        key: _Message(pk, sent_at, opened, clicked)
        for key, pk, sent_at, opened, clicked in MarketingMessage.objects.filter(
            key__in={hit.key for hit in hits}
        ).values_list("key", "pk", "sent_at", "first_opened_at", "first_clicked_at")
    }
    events = []
    for hit in hits:
        message = messages.get(hit.key)
        if message is None:
            continue  # the message was deleted with its lead since
        verdict = _verdict(message, hit)
        events.append(
            TrackingEvent(
                message_id=message.pk,
                kind=hit.kind,
                link_index=hit.link_index,
                at=hit.at,
                ip=hit.ip,
                user_agent=hit.user_agent,
                counted=verdict == "human",
                verdict=verdict,
            )
        )
    TrackingEvent.objects.bulk_create(events)
    TrackingHit.objects.filter(pk__in=[hit.pk for hit in hits]).delete()
    return len(hits)


def process_hits(*, batch: int = BATCH) -> int:
    """Judge every waiting pixel and click hit exactly once, in the order they came, then put
    the counted ones on the leads' timelines; returns how many hits were judged.

    Each batch is one transaction (events written, hits deleted), so a crash leaves a batch
    either wholly judged or wholly waiting. The timeline entries follow, each in its own
    transaction and marked when written (`count_engagement`); one left over by a crash is
    written by the next run.
    """
    judged = 0
    while True:
        taken = _judge_batch(batch)
        judged += taken
        if taken < batch:
            break
    waiting = TrackingEvent.objects.filter(counted=True, logged_at__isnull=True)
    for event_id in waiting.order_by("pk").values_list("pk", flat=True)[:1000]:
        try:
            count_engagement(event_id)
        except Exception:
            logger.exception("could not log engagement of tracking event id=%d", event_id)
    return judged


@transaction.atomic
def count_engagement(event_id: int) -> bool:
    """Put a counted open or click on the lead's timeline and score the lead again; once."""
    event = (
        TrackingEvent.objects.select_for_update(of=("self",))
        .select_related("message__lead")
        .filter(pk=event_id, counted=True, logged_at__isnull=True)
        .first()
    )
    if event is None:
        return False
    message = event.message
    data: dict[str, object] = {"marketing_message_id": message.pk, "subject": message.subject}
    # An erased person's mail keeps no links.
    index = event.link_index
    if event.kind == TrackingKind.CLICK and index is not None and index < len(message.links):
        data["url"] = message.links[index]
    assessment.log_engagement(
        message.lead,
        kind=ActivityKind.EMAIL_OPENED
        if event.kind == TrackingKind.OPEN
        else ActivityKind.EMAIL_CLICKED,
        by=RECIPIENT,
        message=message.subject,
        data=data,
        at=event.at,
    )
    TrackingEvent.objects.filter(pk=event.pk).update(logged_at=timezone.now())
    engagement.engaged(message.lead_id)
    return True


@transaction.atomic
def unsubscribe(message: MarketingMessage, *, how: str, at: dt.datetime | None = None) -> None:
    """The person behind a message asked for no more marketing mail: at once their address is
    suppressed and the lead's marketing opt-out recorded (with its timeline entry). Repeating it
    changes nothing."""
    now = at or timezone.now()
    suppression.suppress(
        message.to, reason=SuppressionReason.UNSUBSCRIBED, note=how, message=message
    )
    MarketingMessage.objects.filter(pk=message.pk, unsubscribed_at__isnull=True).update(
        unsubscribed_at=now
    )
    lead = message.lead
    if lead.erased_at is None and lead.marketing_opt_out_at is None:
        lead_services.record_objection(
            lead,
            by=RECIPIENT,
            marketing=True,
            source=_("Unsubscribe link in the e-mail \u201c%(subject)s\u201d (%(how)s)")
            % {"subject": message.subject[:120], "how": how},
            at=now,
        )
