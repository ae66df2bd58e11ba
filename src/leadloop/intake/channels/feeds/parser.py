"""RSS 2.0, Atom and RDF feeds: the entries of a fetched feed as flat label → value records.

`parse_feed` reads bytes the caller fetched; feedparser never fetches anything itself (it is
handed a stream, not a string it could take for a URL or a file name). A record holds the
entry's own fields under labels that start with "_" (`_title`, `_link`, `_summary`, `_author`,
`_author_email`, `_published`, `_tags`: like the e-mail channel's `_subject`, the synonyms leave
them alone, so an entry's title never becomes a job title), the terms of tags that carry a scheme
(`<category domain="city">Utrecht</category>` → "city"), and the "Label: value" lines or
two-column table rows of the entry's body, as the sender wrote them ("Name", "E-mail"). The intake
core maps labels to lead fields later (the source's mapping, then the synonyms).

Every value is untrusted text: feedparser sanitises HTML, and on top of that we reduce markup to
plain text, drop control characters (PostgreSQL cannot store NUL) and cap lengths.
"""

from __future__ import annotations

import calendar
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import feedparser
from django.utils.translation import gettext as _

from leadloop.errors import LeadloopError
from leadloop.intake.channels import ParseError, Record, register
from leadloop.intake.channels.html import read_html
from leadloop.intake.synonyms import fold_label

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

RSS_CHANNEL = "rss"

MAX_FEED_BYTES = 10 * 1024 * 1024
MAX_VALUE_CHARS = 10_000
MAX_LABEL_CHARS = 100
MAX_LABELS_PER_ENTRY = 200

# A DOCTYPE that declares entities is how entity-expansion bombs ("billion laughs", quadratic
# blow-up) start. Real feeds do not declare entities, so such a document is refused unparsed.
_ENTITY_DECLARATION = re.compile(rb"<!ENTITY", re.IGNORECASE)

_ENTRY_END = re.compile(rb"</(?:[\w.-]+:)?(?:item|entry)\s*>")
# Bozo reasons that do not make the entries doubtful: a wrong charset label or content type.
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)

# C0/C1 control characters except tab and newline; U+FFFE/FFFF are not characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
_BLANKS = re.compile(r"[ \t\r\f\v\u00a0]+")
# "Name: Jan Jansen", "E-mail : jan@example.nl"; the label starts with a letter and is short.
_LABEL_LINE = re.compile(rf"^\s*([^\W\d_][^:\n]{{0,{MAX_LABEL_CHARS - 1}}}?)\s*[:：]\s*(\S.*?)\s*$")


class FeedError(LeadloopError):
    """A feed that cannot be read: too large, not a feed, or broken beyond recovery."""

    title = "Unreadable feed"


@dataclass(frozen=True)
class FeedEntry:
    """One entry of a feed: its stable id, when it was published, and its labelled values."""

    guid: str
    published: datetime | None
    record: dict[str, str] = field(default_factory=dict)


def parse_feed(raw: bytes, *, rules: dict[str, Any] | None = None) -> list[FeedEntry]:
    """The entries of an RSS, Atom or RDF document, in document order.

    A malformed document whose entries could still be recovered is accepted; one that yields no
    entries raises FeedError with the parser's reason. `rules` may hold {"label_aliases":
    {"label as sent": "label to use"}}, e.g. {"_author_email": "email"}.
    """
    if len(raw) > MAX_FEED_BYTES:
        raise FeedError(
            _("The feed is %(size)s bytes, more than the limit of %(limit)s bytes.")
            % {"size": len(raw), "limit": MAX_FEED_BYTES}
        )
    if _ENTITY_DECLARATION.search(raw):
        raise FeedError(_("The feed declares XML entities, which are refused for safety."))
    # A stream, so feedparser cannot mistake the bytes for a URL or a file name to open.
    parsed = feedparser.parse(io.BytesIO(raw), sanitize_html=True, resolve_relative_uris=False)
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(problem, _HARMLESS_BOZO):
        problem = None
    if not parsed.entries:
        if problem is not None:
            raise FeedError(_("The feed is malformed: %(reason)s") % {"reason": _text(problem)})
        if not parsed.get("version"):
            raise FeedError(_("The document is not an RSS, Atom or RDF feed."))
    entries = parsed.entries
    if problem is not None:
        # A broken document keeps only the entries that were closed before the break: the last
        # one of a truncated feed may miss fields, and a lead is taken only once per guid.
        entries = entries[: len(_ENTRY_END.findall(raw))]
    aliases = {
        fold_label(k): _text(v) for k, v in ((rules or {}).get("label_aliases") or {}).items()
    }
    return [_entry(item, aliases) for item in entries]


def entry_body(entry: FeedEntry) -> bytes:
    """The stored form of one entry: canonical JSON, so the same entry is the same bytes."""
    data = {
        "guid": entry.guid,
        "published": entry.published.isoformat() if entry.published else None,
        "record": entry.record,
    }
    return json.dumps(data, ensure_ascii=False, sort_keys=True).encode("utf-8")


@register(RSS_CHANNEL)
def parse_entry_submission(submission: RawSubmission) -> list[Record]:
    """A stored feed entry (see `entry_body`) back into its one record."""
    try:
        data = json.loads(bytes(submission.body).decode("utf-8"))
        record = data["record"]
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise ParseError(
            _("A stored feed entry is not readable: %(reason)s") % {"reason": exc}
        ) from exc
    if not isinstance(record, dict):
        raise ParseError(_("A stored feed entry has no record."))
    return [{str(k): "" if v is None else str(v) for k, v in record.items()}]


def _entry(item: Any, aliases: dict[str, str]) -> FeedEntry:
    published = _aware(item.get("published_parsed") or item.get("updated_parsed"))
    record: dict[str, str] = {}

    def put(label: str, value: Any) -> None:
        label = _text(label)[:MAX_LABEL_CHARS]
        label = aliases.get(fold_label(label), label)
        value = _text(value)
        if label and value and label not in record and len(record) < MAX_LABELS_PER_ENTRY:
            record[label] = value

    title_type = item.get("title_detail", {}).get("type", "text/plain")
    title = item.get("title") or ""
    put("_title", title if title_type == "text/plain" else _html_to_text(title))
    put("_link", item.get("link"))
    summary = _html_to_text(item.get("summary") or "")
    contents = [_html_to_text(c.get("value") or "") for c in item.get("content") or []]
    put("_summary", summary or next(iter(contents), ""))
    put("_author", item.get("author_detail", {}).get("name") or item.get("author"))
    put("_author_email", item.get("author_detail", {}).get("email"))
    put("_published", published.isoformat() if published else "")
    tags = [t for t in item.get("tags") or [] if _text(t.get("term"))]
    put("_tags", ", ".join(_text(t.get("term")) for t in tags))
    for tag in tags:
        # <category domain="city">Utrecht</category>: the scheme labels the term.
        scheme = _text(tag.get("scheme"))
        if scheme and "/" not in scheme:
            put(scheme, tag.get("term"))
    for text in (summary, *contents):
        for label, value in _labelled_lines(text):
            put(label, value)

    guid = _text(item.get("id")) or _text(item.get("link"))
    if not guid:
        seed = f"{record.get('_title', '')}\n{record.get('_published', '')}"
        guid = "sha256:" + hashlib.sha256(seed.encode("utf-8")).hexdigest()
    return FeedEntry(guid=guid, published=published, record=record)


def _aware(parsed_time: Any) -> datetime | None:
    """feedparser gives times as UTC struct_time; we want aware datetimes."""
    if not parsed_time:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(parsed_time), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _text(value: Any) -> str:
    """Untrusted text made storable: no control characters, trimmed, capped."""
    if value is None:
        return ""
    text = _CONTROL.sub("", str(value)).strip()
    return text[:MAX_VALUE_CHARS]


def _labelled_lines(text: str) -> list[tuple[str, str]]:
    pairs = []
    for line in text.splitlines():
        match = _LABEL_LINE.match(line)
        # "https://…" is a link, not a label called "https".
        if match and not match.group(2).startswith("//"):
            pairs.append((match.group(1), match.group(2)))
    return pairs


def _html_to_text(markup: str) -> str:
    """Sanitised HTML → plain text, one line per block; two-cell table rows become 'a: b'."""
    return "\n".join(read_html(markup).lines())
