"""Reads for the review pages: the submission queue, one submission, its raw body and its trace.

Submissions hold other people's personal data from every source, so the queue is for marketing and
admins only (the people who fix mappings). Everyone else sees an empty queue and 404s.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException
from defusedxml.minidom import parseString
from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.core.paging import Keyset, Page, paginate
from leadloop.errors import NotFound
from leadloop.intake.channels.http.parser import media_type
from leadloop.intake.mapping import MappingError, map_record
from leadloop.intake.models import Disposition, ImportBatch, RawSubmission, SubmissionState
from leadloop.intake.synonyms import field_for_label
from leadloop.leads.models import Source

REVIEW_STATES = (
    SubmissionState.QUARANTINED,
    SubmissionState.REJECTED,
    SubmissionState.THROTTLED,
)
MAX_PAGE = 200
# The browser stays responsive with a few hundred KB in a <pre>; the rest is a download away.
DISPLAY_LIMIT = 200_000
LIST_FIELDS = (
    "id", "source__name", "channel", "content_type", "received_at", "state", "disposition",
    "reasons", "lead_id", "parent_id", "attempts",
)  # fmt: skip
CHILD_FIELDS = ("id", "channel", "received_at", "state", "disposition", "reasons", "lead_id")


def _reviewable(actor: Actor) -> QuerySet[RawSubmission]:
    if not can_manage_configuration(actor):
        return RawSubmission.objects.none()
    return RawSubmission.objects.all()


SUBMISSION_ORDER = Keyset(("received_at",), ("datetime",))
SubmissionPage = Page[RawSubmission]


def list_submissions(
    actor: Actor,
    *,
    state: str | None = None,
    source_id: int | None = None,
    channel: str | None = None,
    q: str = "",
    cursor: str | None = None,
    limit: int = 50,
) -> SubmissionPage:
    """One page of the review queue, newest first, keyset-paginated; marketing and admins only.

    `q` finds a submission by its number ("123" or "#123"); the bodies are not searched.
    """
    qs = _reviewable(actor)
    if state:
        qs = qs.filter(state=state)
    if source_id:
        qs = qs.filter(source_id=source_id)
    if channel:
        qs = qs.filter(channel=channel)
    number = q.strip().lstrip("#")
    if number:
        qs = qs.filter(pk=int(number)) if number.isdigit() else qs.none()
    # The body can be megabytes; the list never needs it.
    return paginate(
        qs.select_related("source").only(*LIST_FIELDS),
        SUBMISSION_ORDER,
        cursor=cursor,
        limit=max(1, min(limit, MAX_PAGE)),
    )


def count_by_state(actor: Actor, *, source_id: int | None = None) -> dict[str, int]:
    """How many submissions are in each state (every state present, zeros included)."""
    qs = _reviewable(actor)
    if source_id:
        qs = qs.filter(source_id=source_id)
    counts = {str(value): 0 for value in SubmissionState.values}
    for row in qs.order_by().values("state").annotate(n=Count("id")):
        counts[row["state"]] = row["n"]
    return counts


def count_needing_review(actor: Actor) -> int:
    """Quarantined, rejected and throttled submissions: the navigation badge (one indexed COUNT)."""
    if not can_manage_configuration(actor):
        return 0
    return RawSubmission.objects.filter(state__in=REVIEW_STATES, erased_at__isnull=True).count()


def count_quarantined(actor: Actor, *, cap: int = 100) -> tuple[int, bool]:
    """Quarantined submissions waiting for a fix, counted up to `cap` on index
    `submission_state`; the flag says there are more."""
    if not can_manage_configuration(actor):
        return 0, False
    qs = RawSubmission.objects.filter(state=SubmissionState.QUARANTINED, erased_at__isnull=True)
    total = qs.order_by().values("pk")[: cap + 1].count()
    return min(total, cap), total > cap


def list_channels(actor: Actor) -> list[str]:
    """The channels submissions came through, for the queue's filter."""
    return sorted(_reviewable(actor).order_by().values_list("channel", flat=True).distinct())


def get_submission_for(actor: Actor, submission_id: int) -> RawSubmission:
    """One submission with its source, lead and parent; NotFound for anyone but reviewers."""
    submission = (
        _reviewable(actor)
        .select_related("source", "lead", "parent")
        .filter(pk=submission_id)
        .first()
    )
    if submission is None:
        raise NotFound(_("No such submission."))
    return submission


def list_children(
    submission: RawSubmission, *, limit: int = 100
) -> tuple[list[RawSubmission], int]:
    """The first records split off a multi-record payload, and how many there are in all."""
    children = submission.children.only(*CHILD_FIELDS).order_by("pk")
    return list(children[:limit]), children.count()


# --- The raw body, for people to read ------------------------------------------------------------


@dataclass(frozen=True)
class RawBody:
    """A submission's body as text to show: decoded, maybe pretty-printed, maybe cut short."""

    text: str
    size: int
    charset: str
    is_binary: bool = False
    is_truncated: bool = False
    is_pretty: bool = False
    shown_bytes: int = 0


def _looks_binary(head: bytes, mime: str) -> bool:
    if mime.startswith("text/") or mime.endswith(("json", "xml")) or "form" in mime:
        return False
    return b"\x00" in head[:8192]


def _pretty(text: str, mime: str) -> str | None:
    stripped = text.lstrip("\ufeff \t\r\n")
    if mime.endswith("json") or stripped[:1] in ("{", "["):
        try:
            return json.dumps(json.loads(stripped), ensure_ascii=False, indent=2)
        except ValueError:
            return None
    if (mime.endswith("xml") or stripped.startswith("<")) and "\n" not in stripped.strip():
        # One long line of XML; a document with its own line breaks is shown as it came.
        try:
            return str(parseString(stripped.encode()).toprettyxml(indent="  "))
        except (DefusedXmlException, ExpatError, ValueError):
            # Not well-formed (real ADF often is not): show it as it came.
            return None
    return None


def read_body(submission: RawSubmission, *, limit: int = DISPLAY_LIMIT) -> RawBody:
    """The body as text: its declared charset (else UTF-8) with replacement characters, JSON and
    one-line XML pretty-printed, and only the first `limit` bytes of a big one."""
    body = bytes(submission.body)
    mime, params = media_type(submission.content_type or "")
    charset = params.get("charset", "") or "utf-8"
    if _looks_binary(body, mime):
        return RawBody(text="", size=len(body), charset="", is_binary=True)
    head = body[:limit]
    try:
        text = head.decode(charset, errors="replace")
    except LookupError:
        charset = "utf-8"
        text = head.decode(charset, errors="replace")
    truncated = len(body) > limit
    pretty = None if truncated else _pretty(text, mime)
    return RawBody(
        text=pretty if pretty is not None else text,
        size=len(body),
        charset=charset,
        is_truncated=truncated,
        is_pretty=pretty is not None,
        shown_bytes=len(head),
    )


# --- How the mapping reads a submission ----------------------------------------------------------


@dataclass(frozen=True)
class MappingTrace:
    """What the source's mapping makes of a submission's fields: label → target → value."""

    rows: list[tuple[str, str, str]] = field(default_factory=list)
    values: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, str] = field(default_factory=dict)
    error: str = ""


def record_of(submission: RawSubmission) -> dict[str, str]:
    """The fields processing used last: a person's correction, else what the parser read."""
    if submission.corrected_fields is not None:
        return {str(k): str(v) for k, v in submission.corrected_fields.items()}
    return {str(k): str(v) for k, v in (submission.fields or {}).items()}


def trace_mapping(submission: RawSubmission, mapping: dict[str, Any] | None = None) -> MappingTrace:
    """Run the mapping (the source's, or `mapping`) over the submission's fields; saves nothing."""
    record = record_of(submission)
    if not record:
        return MappingTrace()
    try:
        candidate = map_record(
            record, submission.source.field_mapping if mapping is None else mapping
        )
    except MappingError as exc:
        return MappingTrace(error=str(exc))
    return MappingTrace(
        rows=list(candidate.trace), values=dict(candidate.values), extra=dict(candidate.extra)
    )


@dataclass(frozen=True)
class SeenLabel:
    """A label a source's senders used lately, with an example value and the synonym's guess."""

    label: str
    count: int
    example: str
    suggested: str


def list_seen_labels(actor: Actor, source: Source, *, submissions: int = 20) -> list[SeenLabel]:
    """The labels in a source's latest parsed submissions, most used first (for the editor)."""
    if not can_manage_configuration(actor):
        return []
    latest = (
        RawSubmission.objects.filter(source=source)
        .only("id", "fields", "corrected_fields")
        .order_by("-received_at", "-id")[:submissions]
    )
    counts: dict[str, int] = {}
    examples: dict[str, str] = {}
    for submission in latest:
        for label, value in record_of(submission).items():
            counts[label] = counts.get(label, 0) + 1
            if value and label not in examples:
                examples[label] = value[:80]
    return [
        SeenLabel(label, n, examples.get(label, ""), field_for_label(label) or "")
        for label, n in sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))
    ]


def list_import_batches(actor: Actor, *, limit: int = 100) -> list[ImportBatch]:
    """The latest imported files, newest first; marketing and admins only (others see none)."""
    if not can_manage_configuration(actor):
        return []
    return list(
        ImportBatch.objects.select_related("source", "created_by").order_by("-started_at", "-id")[
            :limit
        ]
    )


def get_import_batch_for(actor: Actor, batch_id: int) -> ImportBatch:
    """One import with its source; NotFound for anyone but marketing and admins."""
    batch = None
    if can_manage_configuration(actor):
        batch = (
            ImportBatch.objects.select_related("source", "campaign", "created_by")
            .filter(pk=batch_id)
            .first()
        )
    if batch is None:
        raise NotFound(_("No such import."))
    return batch


# --- Privacy: a person's submissions, and the ones past retention --------------------------------


def submission_record(submission: RawSubmission) -> dict[str, Any]:
    """A submission as a person's copy: the body as text when it decodes, else base64."""
    body = bytes(submission.body)
    try:
        text, encoding = body.decode("utf-8"), "text"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(body).decode("ascii"), "base64"
    return {
        "id": submission.pk,
        "source": submission.source.name,
        "channel": submission.channel,
        "received_at": submission.received_at.isoformat(),
        "state": submission.state,
        "disposition": submission.disposition,
        "lead_id": submission.lead_id,
        "parent_id": submission.parent_id,
        "content_type": submission.content_type,
        "headers": submission.headers,
        "meta": submission.meta,
        "fields": submission.fields,
        "corrected_fields": submission.corrected_fields,
        "reasons": submission.reasons,
        "body_encoding": encoding,
        "body": text,
        "erased_at": submission.erased_at.isoformat() if submission.erased_at else None,
    }


def list_person_submissions(
    lead_ids: list[int], *, also: Iterable[int] = ()
) -> list[RawSubmission]:
    """The submissions that made or fed `lead_ids` (and those with ids in `also`), with the
    payloads they were split from, oldest first."""
    linked = list(
        RawSubmission.objects.filter(Q(lead_id__in=lead_ids) | Q(pk__in=list(also))).values_list(
            "pk", "parent_id"
        )
    )
    ids = {pk for pk, _parent in linked} | {parent for _pk, parent in linked if parent}
    return list(
        RawSubmission.objects.filter(pk__in=ids).select_related("source").order_by("received_at")
    )


# A separator people write inside a phone number: "+31 6-4127.9983", "(020) 123".
_PHONE_SEPARATOR = r"[ \t\-./()]"
# Around an address: no character of a local part before it, none of a domain after it (a full
# stop that ends a sentence is fine).
_EMAIL_BEFORE = r"(?<![A-Za-z0-9._%+\-])"
_EMAIL_AFTER = r"(?![A-Za-z0-9\-])(?!\.[A-Za-z0-9\-])"
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_FORM_URLENCODED = "application/x-www-form-urlencoded"


def _mention_pattern(emails: Iterable[str], phones: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for whole e-mail addresses and whole phone numbers, never part of a longer one.

    An address must not be preceded by a character of a local part nor followed by one of a
    domain (a full stop that ends a sentence is fine): `ann@example.com` is not found in
    `joann@example.com` or `ann@example.com.evil`. A number is matched on its digits, with
    separators allowed between them, and must not be preceded or followed by another digit
    (directly or across one separator): `0641279983` is not found in `06412799831`.
    """
    parts = []
    for email in emails:
        email = email.strip()
        if "@" in email and len(email) >= 5:
            parts.append(_EMAIL_BEFORE + re.escape(email) + _EMAIL_AFTER)
    for phone in phones:
        digits = re.sub(r"\D", "", phone)
        if len(digits) >= 6:
            spaced = f"{_PHONE_SEPARATOR}?".join(digits)
            parts.append(rf"(?<!\d)(?<!\d{_PHONE_SEPARATOR}){spaced}(?!{_PHONE_SEPARATOR}?\d)")
    return re.compile("|".join(parts), re.IGNORECASE) if parts else None


def _searchable_body(body: bytes, content_type: str) -> str:
    """The body as text a person's values can be found in: JSON `\\u0040` escapes and URL
    encoding undone (a throttled post is never parsed, so its body is all there is)."""
    text = body.decode("utf-8", "replace")
    text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if media_type(content_type)[0] == _FORM_URLENCODED:
        return unquote_plus(text)
    return unquote(text)


def list_unlinked_submissions_mentioning(
    *, emails: Iterable[str] = (), phones: Iterable[str] = (), limit: int = 200
) -> list[int]:
    """Submissions without a lead (refused, quarantined, throttled, waiting) whose body or parsed
    fields hold one of `emails` (ignoring case) or `phones` (in any notation) as a whole value.

    A scan of the lead-less submissions, for the rare privacy request: they are few next to the
    processed ones, and a person's refused posts hold their data as much as a lead does.
    """
    pattern = _mention_pattern(emails, phones)
    if pattern is None:
        return []
    found: list[int] = []
    unlinked = (
        RawSubmission.objects.filter(lead__isnull=True, erased_at__isnull=True)
        .order_by("pk")
        .values_list("pk", "body", "content_type", "fields", "corrected_fields")
    )
    for pk, body, content_type, parsed, corrected in unlinked.iterator(chunk_size=500):
        haystack = (
            _searchable_body(bytes(body), content_type)
            + "\n"
            + json.dumps([parsed, corrected], ensure_ascii=False)
        )
        if pattern.search(haystack):
            found.append(pk)
            if len(found) >= limit:
                break
    return found


def list_submission_ids_past_retention(
    *, states: list[str], received_before: dt.datetime, limit: int = 1000
) -> list[int]:
    """Unerased submissions in `states` received before the cut-off, oldest first."""
    return list(
        RawSubmission.objects.filter(
            state__in=states, received_at__lt=received_before, erased_at__isnull=True
        )
        .order_by("received_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def count_outcomes_by_source(start: dt.datetime, end: dt.datetime) -> dict[int, dict[str, int]]:
    """Per source, the submissions received in [start, end) that made no new lead: `rejected`
    (refused, or held for review or over a post limit: no lead yet) and `duplicate` (merged into
    a lead that was there already), with the rows of batch imports started in the window. For
    analytics, which shows these beside the leads; not scoped to a viewer."""
    window = RawSubmission.objects.filter(received_at__gte=start, received_at__lt=end)
    counts: dict[int, dict[str, int]] = {}

    def add(source_id: int, key: str, n: int) -> None:
        into = counts.setdefault(source_id, {"rejected": 0, "duplicate": 0})
        into[key] += n

    refused = window.filter(state__in=REVIEW_STATES)
    duplicate = window.filter(state=SubmissionState.PROCESSED, disposition=Disposition.DUPLICATE)
    for key, rows in (("rejected", refused), ("duplicate", duplicate)):
        for row in rows.order_by().values("source_id").annotate(n=Count("pk")):
            add(row["source_id"], key, row["n"])
    batches = (
        ImportBatch.objects.filter(started_at__gte=start, started_at__lt=end)
        .order_by()
        .values("source_id")
        .annotate(
            rejected=Sum("rows_rejected") + Sum("rows_set_aside"), duplicate=Sum("rows_duplicate")
        )
    )
    for batch in batches:
        add(batch["source_id"], "rejected", batch["rejected"] or 0)
        add(batch["source_id"], "duplicate", batch["duplicate"] or 0)
    return counts
