"""Opens, clicks and unsubscribes coming back from a marketing mail.

Every hit is stored as a TrackingEvent; only a message's first *human* open and first human
click count as engagement (a timeline entry and a new engagement score, by a task after the
response so the endpoints stay fast). Not human:
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
import logging
from dataclasses import dataclass
from functools import lru_cache, partial

from crawlerdetect import CrawlerDetect
from django.conf import settings
from django.db import transaction
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
    TrackingKind,
)
from leadloop.nurture.mail.services import suppression

logger = logging.getLogger(__name__)

# The person who got the mail, acting through its links (the timeline names them so).
RECIPIENT = SystemActor(label="recipient")
COUNT_TASK = "leadloop.nurture.mail.tasks.count_engagement_task"
APPLE_NETWORK = ipaddress.ip_network("17.0.0.0/8")
APPLE_PROXY_AGENT = "Mozilla/5.0"
# Apple's and other clients' prefetch of the pixel follows delivery within seconds.
PREFETCH_SECONDS = 5


@dataclass(frozen=True)
class Hit:
    ip: str | None
    user_agent: str
    at: dt.datetime


@lru_cache(maxsize=1)
def _crawlers() -> CrawlerDetect:
    return CrawlerDetect()


def _is_apple_proxy(hit: Hit) -> bool:
    if hit.user_agent.strip() == APPLE_PROXY_AGENT:
        return True
    try:
        return hit.ip is not None and ipaddress.ip_address(hit.ip) in APPLE_NETWORK
    except ValueError:
        return False


def _seconds_after(sent_at: dt.datetime | None, at: dt.datetime) -> float | None:
    return None if sent_at is None else (at - sent_at).total_seconds()


def _store(message_id: int, kind: str, hit: Hit, verdict: str, index: int | None) -> TrackingEvent:
    return TrackingEvent.objects.create(
        message_id=message_id,
        kind=kind,
        link_index=index,
        at=hit.at,
        ip=hit.ip or None,
        user_agent=hit.user_agent[:300],
        counted=verdict == "human",
        verdict=verdict,
    )


def _first(message_id: int, column: str, at: dt.datetime) -> bool:
    """Whether this hit is the message's first counted one of its kind (one request wins)."""
    return bool(
        MarketingMessage.objects.filter(pk=message_id, **{f"{column}__isnull": True}).update(
            **{column: at}
        )
    )


def record_open(key: str, hit: Hit) -> bool:
    """Store a pixel hit for the message with `key`; False when there is no such message."""
    row = (
        MarketingMessage.objects.filter(key=key)
        .values_list("pk", "sent_at", "first_opened_at")
        .first()
    )
    if row is None:
        return False
    message_id, sent_at, first_opened_at = row
    after = _seconds_after(sent_at, hit.at)
    if after is None:
        verdict = "unsent"
    elif _is_apple_proxy(hit) or after < PREFETCH_SECONDS:
        verdict = "machine"
    elif first_opened_at is not None or not _first(message_id, "first_opened_at", hit.at):
        verdict = "repeat"
    else:
        verdict = "human"
    event = _store(message_id, TrackingKind.OPEN, hit, verdict, None)
    if event.counted:
        transaction.on_commit(partial(_queue, event.pk))
    return True


def record_click(key: str, index: int, hit: Hit) -> str | None:
    """Store a click on link `index` of the message with `key`; the link's stored address, or
    None when there is no such message or link (the caller answers 404)."""
    row = (
        MarketingMessage.objects.filter(key=key)
        .values_list("pk", "sent_at", "first_clicked_at", "links")
        .first()
    )
    if row is None:
        return None
    message_id, sent_at, first_clicked_at, links = row
    if not 0 <= index < len(links):
        return None
    after = _seconds_after(sent_at, hit.at)
    if after is None:
        verdict = "unsent"
    elif after < settings.LEADLOOP_MARKETING_SCANNER_SECONDS:
        verdict = "scanner"
    elif hit.user_agent and _crawlers().isCrawler(hit.user_agent):
        verdict = "bot"
    elif first_clicked_at is not None or not _first(message_id, "first_clicked_at", hit.at):
        verdict = "repeat"
    else:
        verdict = "human"
    event = _store(message_id, TrackingKind.CLICK, hit, verdict, index)
    if event.counted:
        transaction.on_commit(partial(_queue, event.pk))
    return str(links[index])


def _queue(event_id: int) -> None:
    try:
        enqueue(COUNT_TASK, event_id=event_id)
    except Exception:
        logger.exception("could not queue engagement of tracking event id=%d", event_id)


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
    if event.kind == TrackingKind.CLICK and event.link_index is not None:
        data["url"] = message.links[event.link_index]
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
