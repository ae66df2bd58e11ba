"""RSS/Atom sources: fetch the feed, and turn each entry not seen before into one lead.

A source of kind "rss" keeps its feed in `field_mapping["feed"]` = {"url": …, "etag": …,
"modified": …, "rules": {"label_aliases": {…}}}. Each poll makes a conditional GET (ETag and
Last-Modified), stores every new entry raw through `intake.services.receive` under the
idempotency key "rss:<guid>", and processes it. The key's unique constraint, not this module's
check, is what guarantees one lead per guid when two polls race.
"""

from __future__ import annotations

import hashlib
import logging
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM
from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.errors import Conflict
from leadloop.intake import services
from leadloop.intake.channels.feeds.parser import (
    MAX_FEED_BYTES,
    RSS_CHANNEL,
    FeedEntry,
    FeedError,
    entry_body,
    parse_feed,
)
from leadloop.intake.channels.polling import poll_every_source
from leadloop.intake.models import RawSubmission
from leadloop.leads.models import ChannelKind, Source

logger = logging.getLogger(__name__)

FETCH_TIMEOUT = 30.0
USER_AGENT = "Leadloop feed poller (+https://github.com/leadloop)"
# receive() keeps at most 200 characters of a key; longer guids are hashed so none collide.
_MAX_KEY = 200


@dataclass
class FeedPoll:
    """What one poll of one source did."""

    source: str
    not_modified: bool = False
    entries: int = 0
    new: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "not_modified": self.not_modified,
            "entries": self.entries,
            "new": self.new,
            "outcomes": self.outcomes,
            "error": self.error,
        }


@dataclass(frozen=True)
class Fetched:
    """A feed response: the body, or nothing new (HTTP 304), and the validators to send next."""

    body: bytes
    not_modified: bool
    etag: str
    modified: str


def entry_key(guid: str) -> str:
    """The idempotency key of a feed entry: one lead per guid and source."""
    key = f"rss:{guid}"
    if len(key) > _MAX_KEY:
        key = "rss:sha256:" + hashlib.sha256(guid.encode("utf-8")).hexdigest()
    return key


def poll_feed(source: Source) -> FeedPoll:
    """Fetch the source's feed and make one lead per entry whose guid is new for this source.

    Safe to run twice or concurrently: a guid that was stored before is skipped, and a race for
    the same guid is settled by the unique idempotency key. The ETag/Last-Modified validators are
    saved only after every entry is stored, so a crash mid-way refetches the whole feed.
    """
    settings = _feed_settings(source)
    fetched = fetch_feed(
        settings["url"], etag=settings.get("etag", ""), modified=settings.get("modified", "")
    )
    result = FeedPoll(source=source.name, not_modified=fetched.not_modified)
    if fetched.not_modified:
        return result
    entries = parse_feed(fetched.body, rules=settings.get("rules") or None)
    result.entries = len(entries)
    seen = set(
        RawSubmission.objects.filter(
            source=source, idempotency_key__in=[entry_key(e.guid) for e in entries]
        ).values_list("idempotency_key", flat=True)
    )
    poll_id = uuid.uuid4().hex
    for entry in entries:
        if entry_key(entry.guid) in seen:
            continue
        submission = _store(source, entry, url=settings["url"], poll_id=poll_id)
        if submission is None or submission.meta.get("poll") != poll_id:
            continue  # another poll stored this guid first
        seen.add(submission.idempotency_key)
        state = services.process_submission(submission.pk).state
        result.new += 1
        result.outcomes[state] = result.outcomes.get(state, 0) + 1
    if (fetched.etag, fetched.modified) != (settings.get("etag", ""), settings.get("modified", "")):
        feed = {**settings, "etag": fetched.etag, "modified": fetched.modified}
        services.set_mapping(source, mapping={"feed": feed}, by=SYSTEM)
    logger.info("feed polled source=%s entries=%d new=%d", source.pk, result.entries, result.new)
    return result


def poll_all_feeds() -> list[FeedPoll]:
    """Poll every active RSS source; one broken feed is reported and does not stop the others."""
    return poll_every_source(
        ChannelKind.RSS, poll_feed, lambda source, reason: FeedPoll(source.name, error=reason)
    )


def _store(source: Source, entry: FeedEntry, *, url: str, poll_id: str) -> RawSubmission | None:
    try:
        return services.receive(
            source=source,
            channel=RSS_CHANNEL,
            body=entry_body(entry),
            content_type="application/json",
            meta={"feed_url": url, "guid": entry.guid, "poll": poll_id},
            idempotency_key=entry_key(entry.guid),
        )
    except Conflict:
        # The same guid was stored by a concurrent poll with a since-edited entry: that entry
        # already became its lead, and a guid makes one lead only.
        return None


def _feed_settings(source: Source) -> dict[str, Any]:
    feed = (source.field_mapping or {}).get("feed")
    if not isinstance(feed, dict) or not str(feed.get("url") or "").strip():
        raise FeedError(_("Source %(name)s has no feed URL.") % {"name": source.name})
    return {**feed, "url": str(feed["url"]).strip()}


def _check_host(url: str) -> None:
    try:
        refuse_private_host(urllib.parse.urlsplit(url).hostname or "")
    except PrivateHostError as exc:
        raise FeedError(str(exc)) from exc


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only: a feed must not send us to file:// or ftp://."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        if urllib.parse.urlsplit(newurl).scheme not in ("http", "https"):
            raise FeedError(
                _("The feed redirected to %(url)s, which is refused.") % {"url": newurl}
            )
        _check_host(newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def fetch_feed(
    url: str,
    *,
    etag: str = "",
    modified: str = "",
    timeout: float = FETCH_TIMEOUT,
    max_bytes: int = MAX_FEED_BYTES,
) -> Fetched:
    """GET a feed with the validators of the last fetch; FeedError on any failure."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise FeedError(_("The feed URL must start with http:// or https://."))
    _check_host(url)
    headers = {
        "User-Agent": USER_AGENT,
        "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.1",
    }
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared and declared.isdigit() and int(declared) > max_bytes:
                raise _too_large(max_bytes)
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                raise _too_large(max_bytes)
            return Fetched(
                body=body,
                not_modified=False,
                etag=response.headers.get("ETag", ""),
                modified=response.headers.get("Last-Modified", ""),
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return Fetched(body=b"", not_modified=True, etag=etag, modified=modified)
        raise FeedError(_("The feed answered HTTP %(status)s.") % {"status": exc.code}) from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FeedError(
            _("The feed could not be fetched: %(reason)s") % {"reason": reason}
        ) from exc


def _too_large(limit: int) -> FeedError:
    return FeedError(_("The feed is larger than the limit of %(limit)s bytes.") % {"limit": limit})
