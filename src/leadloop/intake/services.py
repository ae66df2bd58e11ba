"""The one intake: store the raw payload first, then parse, map, and create the lead.

submission = receive(source=…, channel="http", body=…, content_type=…)   # committed first
process_submission(submission.pk)                                           # safe to repeat
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor, SourceActor
from leadloop.accounts.permissions import Permission, require
from leadloop.assessment import enrichment as assessment_enrichment
from leadloop.assessment import services as assessment_services
from leadloop.assessment.context import Verdict
from leadloop.core import prepared, ratelimit, retry, secrets
from leadloop.errors import Conflict, ValidationFailed
from leadloop.intake import channels
from leadloop.intake import throttle as intake_throttle
from leadloop.intake.channels import ParseError
from leadloop.intake.channels.record import RECORD_CHANNEL
from leadloop.intake.mapping import Candidate, MappingError, map_record, validate_mapping
from leadloop.intake.models import Disposition, RawSubmission, SubmissionState
from leadloop.intake.outcome import (
    Created,
    FannedOut,
    Merged,
    Outcome,
    Quarantined,
    Rejected,
    Repeated,
    clean_keeping_lead,
    reason,
)
from leadloop.leads import selectors as leads_selectors
from leadloop.leads import services as leads_services
from leadloop.leads.models import Campaign, Lead, Source

logger = logging.getLogger(__name__)

# A sender that posts the same bytes again within this window (a double click, a stuttering
# retry) gets the first lead back instead of a second one.
REPEAT_WINDOW = dt.timedelta(minutes=10)
MAX_RECORDS = 10_000


def _sha256(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def receive(
    *,
    source: Source,
    channel: str,
    body: bytes,
    content_type: str = "",
    headers: Mapping[str, str] | None = None,
    meta: Mapping[str, Any] | None = None,
    idempotency_key: str = "",
    process_later: bool = False,
    parent: RawSubmission | None = None,
    throttle: Sequence[ratelimit.Limit] = (),
) -> RawSubmission:
    """Store an inbound payload exactly as it came, in its own transaction, before anything else.

    A repeated Idempotency-Key returns the first submission (and refuses a different body under
    the same key). With `process_later` a task processes it after the commit; otherwise the caller
    calls `process_submission` (for a synchronous answer). Either way, a crash after this point
    leaves the submission `received` for the sweep to finish.

    The post counts against the `throttle` limits in the same transaction; over one of them it is
    stored THROTTLED (not processed, reprocessable from the review queue) and without its
    Idempotency-Key, so the sender's retry with that key is taken as new.
    """
    digest = _sha256(body)
    key = idempotency_key.strip()[:200]
    if key:
        existing = _by_key(source, key)
        if existing is not None:
            return _same_body(existing, digest)
    try:
        with transaction.atomic():
            exceeded = ratelimit.hit(*throttle) if throttle else None
            submission = RawSubmission(
                source=source,
                channel=channel,
                content_type=content_type[:200],
                body=body,
                body_sha256=digest,
                headers=dict(headers or {}),
                meta=dict(meta or {}),
                idempotency_key=key,
                received_at=timezone.now(),
                parent=parent,
            )
            if exceeded is not None:
                _hold_back(submission, exceeded)
            prepared.insert(submission)
            if process_later and exceeded is None:
                transaction.on_commit(partial(_enqueue, submission.pk))
    except IntegrityError:
        existing = _by_key(source, key) if key else None
        if existing is None:
            raise
        return _same_body(existing, digest)
    return submission


def _hold_back(submission: RawSubmission, exceeded: ratelimit.Exceeded) -> None:
    reason, figures = intake_throttle.throttled_record(exceeded)
    submission.state = SubmissionState.THROTTLED
    submission.reasons = [reason]
    submission.meta = {**submission.meta, intake_throttle.THROTTLED: figures}
    submission.idempotency_key = ""
    submission.processed_at = submission.received_at


def _by_key(source: Source, key: str) -> RawSubmission | None:
    return RawSubmission.objects.filter(source=source, idempotency_key=key).first()


def _same_body(existing: RawSubmission, digest: str) -> RawSubmission:
    if existing.body_sha256 != digest:
        raise Conflict(
            _("This Idempotency-Key was used before with a different body."),
            errors={"idempotency_key": [_("Use a new key for a new lead.")]},
        )
    return existing


def _enqueue(submission_id: int) -> None:
    retry.enqueue("leadloop.intake.tasks.process_submission_task", submission_id=submission_id)


class _Settled(Exception):
    """Another run settled the submission first: this run's writes are rolled back."""


def process_submission(
    submission_id: int, *, submission: RawSubmission | None = None
) -> RawSubmission:
    """Turn a stored submission into a lead, a rejection or a quarantine entry.

    The outcome is decided first with no lock held (parse, map, validate, assess: the CPU-heavy
    part), then `apply` writes it in one short transaction that claims the submission only if it
    is still RECEIVED. A run that loses that race (a retried task, a second sweep, a synchronous
    request meeting the sweep) rolls its writes back and returns what the winner wrote:
    idempotent, and the database's write lock is held for a few statements rather than the whole
    pipeline. Pass the `submission` just stored by `receive` to save reading it again.
    """
    if submission is None or submission.pk != submission_id:
        submission = RawSubmission.objects.select_related("source").get(pk=submission_id)
    if submission.state != SubmissionState.RECEIVED:
        return submission
    submission.attempts += 1
    for attempt in range(2):
        outcome = decide(submission)
        try:
            with transaction.atomic():
                return apply(submission, outcome)
        except _Settled:
            return RawSubmission.objects.get(pk=submission_id)
        except ValidationFailed:
            # Lost a race on the unique external reference: decide again, which now finds the
            # lead the other submission made and answers with it as a duplicate.
            if attempt:
                raise
    raise AssertionError("unreachable")


def decide(submission: RawSubmission) -> Outcome:
    """What processing `submission` comes to; reads only, writes nothing."""
    try:
        records = (
            [submission.corrected_fields]
            if submission.corrected_fields is not None
            else channels.parse(submission)
        )
    except ParseError as exc:
        return Quarantined([reason("parse_error", str(exc))])
    except (RecursionError, MemoryError, ValueError, LookupError, TypeError) as exc:
        # A hostile payload (200,000 nested brackets, a mail of 3,000 nested parts) can break
        # a parser in ways it does not report as ParseError. It must end in quarantine, not
        # stay `received` and trip the sweep for ever.
        logger.warning("parser failed submission=%s error=%s", submission.pk, type(exc).__name__)
        message = _("The payload could not be read (%(error)s).") % {"error": type(exc).__name__}
        return Quarantined([reason("parse_error", message)])
    if not records:
        return Quarantined([reason("empty", _("No lead found in it."))])
    if len(records) > MAX_RECORDS:
        message = _("More than %(n)d records in one payload.") % {"n": MAX_RECORDS}
        return Quarantined([reason("too_many", message)])
    if len(records) > 1:
        return FannedOut(records)
    submission.fields = records[0]
    try:
        candidate = map_record(records[0], submission.source.field_mapping)
    except MappingError as exc:
        return Quarantined([reason("mapping_error", str(exc))])
    return _decide_lead(submission, candidate)


def apply(submission: RawSubmission, outcome: Outcome) -> RawSubmission:
    """Write `outcome`: the lead (created or merged) and the submission's final state.

    The caller holds the transaction; raises _Settled when another run finished the submission.
    """
    match outcome:
        case Quarantined(reasons):
            logger.info("submission quarantined id=%s reasons=%s", submission.pk, reasons)
            return _finish(submission, state=SubmissionState.QUARANTINED, reasons=reasons)
        case Rejected(reasons):
            return _reject(submission, reasons=reasons)
        case Repeated(lead_id, reasons):
            return _finish(
                submission,
                state=SubmissionState.PROCESSED,
                disposition=Disposition.DUPLICATE,
                reasons=reasons,
                lead_id=lead_id,
            )
        case FannedOut(records):
            return _fan_out(submission, records)
        case Created(verdict, by, warnings):
            lead = verdict.lead
            leads_services.save_new_lead(lead, by=by, note=assessment_services.summary(verdict))
            assessment_services.record_intake_results(verdict, by=by)
            assessment_enrichment.schedule_http_enrichment(lead.pk)
            return _finish(
                submission,
                state=SubmissionState.PROCESSED,
                disposition=Disposition.ACCEPTED,
                lead_id=lead.pk,
                reasons=warnings,
            )
        case Merged(verdict, by, warnings):
            existing = assessment_services.absorb_submission(
                verdict, submission_id=submission.pk, by=by
            )
            assert verdict.duplicate is not None
            merged = _("Same person as lead %(id)d (%(why)s); added to its timeline.") % {
                "id": existing.pk,
                "why": ", ".join(verdict.duplicate.reasons),
            }
            return _finish(
                submission,
                state=SubmissionState.PROCESSED,
                disposition=Disposition.DUPLICATE,
                reasons=[*warnings, reason("merged", merged)],
                lead_id=existing.pk,
            )
    raise AssertionError(f"unknown outcome {outcome!r}")


def _finish(
    submission: RawSubmission,
    *,
    state: str,
    disposition: str = "",
    reasons: list[dict[str, str]] | None = None,
    lead_id: int | None = None,
) -> RawSubmission:
    """Write the outcome, only if the submission is still RECEIVED (else raise _Settled)."""
    submission.state = state
    submission.disposition = disposition
    submission.reasons = reasons or []
    submission.lead_id = lead_id
    submission.processed_at = timezone.now()
    claimed = prepared.update(
        submission,
        ("state", "disposition", "reasons", "lead", "processed_at", "attempts", "fields"),
        where={"state": SubmissionState.RECEIVED},
    )
    if not claimed:
        raise _Settled
    return submission


def _quarantine(submission: RawSubmission, *, reasons: list[dict[str, str]]) -> RawSubmission:
    return apply(submission, Quarantined(reasons))


def _reject(submission: RawSubmission, *, reasons: list[dict[str, str]]) -> RawSubmission:
    return _finish(
        submission,
        state=SubmissionState.REJECTED,
        disposition=Disposition.REJECTED,
        reasons=reasons,
    )


def _fan_out(submission: RawSubmission, records: list[dict[str, str]]) -> RawSubmission:
    """Many records in one payload: one child submission (and lead) per record."""
    _finish(submission, state=SubmissionState.PROCESSED, disposition=Disposition.ACCEPTED)
    children = []
    for number, record in enumerate(records, 1):
        child = RawSubmission(
            source=submission.source,
            channel=RECORD_CHANNEL,
            content_type="application/json",
            body=json.dumps(record, ensure_ascii=False).encode(),
            body_sha256=_sha256(json.dumps(record, sort_keys=True).encode()),
            meta={**submission.meta, "record": number},
            received_at=submission.received_at,
            parent=submission,
        )
        prepared.insert(child)
        children.append(child.pk)
    for child_id in children:
        transaction.on_commit(partial(process_submission, child_id))
    return submission


def _actor_for(submission: RawSubmission) -> Actor:
    return SourceActor(source_id=submission.source_id, source_name=submission.source.name)


def _decide_lead(submission: RawSubmission, candidate: Candidate) -> Outcome:
    source = submission.source
    data = candidate.lead_input()
    for name in (
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "referrer",
        "landing_page",
    ):
        if submission.meta.get(name) and not data.get(name):
            data[name] = str(submission.meta[name])
    if not (data.get("email") or data.get("phone")):
        return Rejected(
            [reason("no_contact", _("Give an e-mail address or a phone number."), "email")]
        )
    previous = _repeat_of(submission, data)
    if previous is not None:
        message = _("Same lead as submission %(id)d.") % {"id": previous.pk}
        return Repeated(previous.lead_id, [reason("repeat", message)])
    if candidate.campaign_name:
        campaign = Campaign.objects.filter(
            source=source, name__iexact=candidate.campaign_name
        ).first()
        if campaign is not None:
            data["campaign_id"] = campaign.pk
        else:
            data.setdefault("extra", {})["campaign"] = candidate.campaign_name
    by = _actor_for(submission)
    lead, warnings = clean_keeping_lead(
        data,
        partial(leads_services.prepare_lead, source=source, by=by, at=submission.received_at),
    )
    if lead is None:
        return Rejected(warnings)
    verdict = assessment_services.assess(lead, meta=submission.meta)
    if verdict.fraud_verdict == Verdict.REJECT:
        return Rejected(warnings + assessment_services.fraud_reasons(verdict))
    if verdict.duplicate is not None and verdict.policy.on_duplicate == "merge":
        return Merged(verdict, by, warnings)
    lead.status = assessment_services.initial_status(verdict)
    return Created(verdict, by, warnings)


def _repeat_of(submission: RawSubmission, data: Mapping[str, Any]) -> RawSubmission | None:
    """An earlier submission of the same lead: same external reference, or same bytes lately.

    Only ids are read: loading the earlier rows' bodies cost more than the rest of the check.
    """
    source_id = submission.source_id
    ref = str(data.get("external_ref") or "").strip()
    if ref:
        lead_id = (
            Lead.objects.filter(source_id=source_id, external_ref=ref)
            .values_list("pk", flat=True)
            .first()
        )
        if lead_id is not None:
            first = (
                RawSubmission.objects.filter(lead_id=lead_id)
                .order_by("received_at")
                .values_list("pk", flat=True)
                .first()
            )
            return RawSubmission(pk=first or 0, lead_id=lead_id)
    # The hottest read of the synchronous intake, written out once instead of compiled per call.
    with connection.cursor() as cursor:
        cursor.execute(
            _EARLIER_SAME_BODY,
            [
                source_id,
                submission.body_sha256,
                connection.ops.adapt_datetimefield_value(submission.received_at - REPEAT_WINDOW),
                SubmissionState.PROCESSED,
                submission.pk,
            ],
        )
        earlier = cursor.fetchone()
    return RawSubmission(pk=earlier[0], lead_id=earlier[1]) if earlier else None


_EARLIER_SAME_BODY = (
    "SELECT id, lead_id FROM intake_rawsubmission"
    " WHERE source_id = %s AND body_sha256 = %s AND received_at >= %s AND state = %s"
    " AND lead_id IS NOT NULL AND id <> %s ORDER BY received_at LIMIT 1"
)


def settle(
    submission_id: int,
    *,
    state: str,
    reasons: list[dict[str, str]] | None = None,
    meta: Mapping[str, Any] | None = None,
    fields: Mapping[str, str] | None = None,
) -> RawSubmission:
    """Finish a submission that a channel handled outside `process_submission`.

    For a file whose rows went in through the bulk import (processed), or a form post refused
    before it became a lead (rejected, still reprocessable from the review queue). Locks the row;
    a submission that already left RECEIVED is returned untouched, like process_submission.
    """
    with transaction.atomic():
        submission = RawSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.state != SubmissionState.RECEIVED:
            return submission
        submission.attempts += 1
        if fields is not None:
            submission.fields = dict(fields)
        if meta:
            submission.meta = {**submission.meta, **meta}
            submission.save(update_fields=["meta"])
        dispositions: dict[str, str] = {
            SubmissionState.PROCESSED: Disposition.ACCEPTED,
            SubmissionState.REJECTED: Disposition.REJECTED,
        }
        disposition = dispositions.get(state, "")
        return _finish(submission, state=state, disposition=disposition, reasons=reasons)


# --- Review: fix and reprocess -------------------------------------------------------------------


@transaction.atomic
def reprocess(
    submission: RawSubmission, *, by: Actor, corrected_fields: Mapping[str, str] | None = None
) -> RawSubmission:
    """Send a quarantined, rejected or throttled submission through the pipeline again.

    With `corrected_fields` a person's fix replaces what the parser read; the raw original is
    never changed.
    """
    require(by, Permission.REVIEW_INTAKE)
    locked = RawSubmission.objects.select_for_update().get(pk=submission.pk)
    if not locked.is_reviewable:
        raise Conflict(_("Only quarantined, rejected or throttled submissions can be reprocessed."))
    if corrected_fields is not None:
        locked.corrected_fields = {str(k): str(v) for k, v in corrected_fields.items()}
    locked.state = SubmissionState.RECEIVED
    locked.disposition = ""
    locked.meta = {**locked.meta, "reprocessed_by": getattr(by, "username", "system")}
    locked.save(update_fields=["corrected_fields", "state", "disposition", "meta"])
    return process_submission(locked.pk)


def reprocess_all(
    source: Source, *, by: Actor, states: Iterable[str] | None = None
) -> dict[str, int]:
    """Reprocess every reviewable submission of a source (after a mapping fix); counts outcomes."""
    require(by, Permission.REVIEW_INTAKE)
    reviewable = (SubmissionState.QUARANTINED, SubmissionState.REJECTED, SubmissionState.THROTTLED)
    wanted = [s for s in states or reviewable[:2] if s in reviewable]
    outcome: dict[str, int] = {}
    ids = list(
        RawSubmission.objects.filter(source=source, state__in=wanted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for submission_id in ids:
        result = reprocess(RawSubmission.objects.get(pk=submission_id), by=by)
        outcome[result.state] = outcome.get(result.state, 0) + 1
    return outcome


def set_mapping(source: Source, *, mapping: dict[str, Any], by: Actor) -> Source:
    """Replace a source's field mapping after checking it; keeps the channel settings in it."""
    require(by, Permission.CONFIGURE_SOURCES)
    errors = validate_mapping(mapping)
    for path in secrets.secret_paths(mapping):
        errors[path] = [
            _("Passwords are not kept in the mapping: set them in the channel settings.")
        ]
    if errors:
        raise ValidationFailed(_("The mapping is not valid."), errors=errors)
    source.field_mapping = {**source.field_mapping, **mapping}
    source.save(update_fields=["field_mapping"])
    leads_services.audit_source(source, by=by, change="mapping", sections=sorted(mapping))
    return source


def preview_mapping(
    source: Source, mapping: dict[str, Any], *, limit: int = 5
) -> list[dict[str, Any]]:
    """What `mapping` would make of the source's latest submissions, without saving anything."""
    previews = []
    latest = RawSubmission.objects.filter(source=source, parent__isnull=True).order_by(
        "-received_at"
    )[:limit]
    for submission in latest:
        item: dict[str, Any] = {
            "submission_id": submission.pk,
            "received_at": submission.received_at,
        }
        try:
            records = (
                [submission.corrected_fields]
                if submission.corrected_fields is not None
                else channels.parse(submission)
            )
            candidate = map_record(records[0], mapping) if records else Candidate()
            item.update(
                values=candidate.values, extra=candidate.extra, trace=candidate.trace, error=""
            )
        except (ParseError, MappingError) as exc:
            item.update(values={}, extra={}, trace=[], error=str(exc))
        previews.append(item)
    return previews


def process_orphans(*, now: dt.datetime | None = None) -> int:
    """Finish submissions a crash left `received` (the scheduler calls this); returns how many."""
    now = now or timezone.now()
    orphaned_before = now - dt.timedelta(seconds=settings.LEADLOOP_ORPHAN_AFTER_SECONDS)
    ids = list(
        RawSubmission.objects.filter(
            state=SubmissionState.RECEIVED, received_at__lte=orphaned_before
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
    for submission_id in ids:
        try:
            process_submission(submission_id)
        except Exception:
            # One submission that keeps failing must not stop the others behind it; after
            # three tries it goes to quarantine for a person to look at.
            logger.exception("orphan sweep failed submission=%s", submission_id)
            _give_up_after_attempts(submission_id)
    return len(ids)


MAX_SWEEP_ATTEMPTS = 3


def _give_up_after_attempts(submission_id: int) -> None:
    with transaction.atomic():
        submission = RawSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.state != SubmissionState.RECEIVED:
            return
        submission.attempts += 1
        if submission.attempts < MAX_SWEEP_ATTEMPTS:
            submission.save(update_fields=["attempts"])
            return
        _quarantine(
            submission,
            reasons=[
                reason("failed", _("Processing failed %(n)d times.") % {"n": submission.attempts})
            ],
        )


def original_for_lead(actor: Actor, lead_id: int) -> RawSubmission | None:
    """The first submission a lead came from, if `actor` may see the lead."""
    lead = leads_selectors.get_lead_for(actor, lead_id)
    return RawSubmission.objects.filter(lead=lead).order_by("received_at").first()


# --- Privacy: erasure and retention --------------------------------------------------------------

# What an erased submission keeps of its meta: nothing that came from the sender's device.
KEPT_META = ("record",)
ERASED_COLUMNS = [
    "body", "body_sha256", "headers", "fields", "corrected_fields", "idempotency_key", "meta",
    "reasons", "erased_at",
]  # fmt: skip


def erase_submissions(submission_ids: Iterable[int], *, at: dt.datetime) -> int:
    """Blank what submissions carry about a person: body, its hash, headers, parsed and corrected
    fields, idempotency key, client details, and the messages of their reasons (codes stay).

    The rows keep source, channel, state and times, so intake counts per source stay right. A
    record split from a bigger payload takes its parent along: the parent's bytes hold the record
    too (its other records keep their own rows). Erased submissions are never reprocessed.
    Irreversible; returns how many rows were blanked. The caller holds the transaction.
    """
    ids = set(submission_ids)
    ids |= set(
        RawSubmission.objects.filter(pk__in=ids, parent__isnull=False).values_list(
            "parent_id", flat=True
        )
    )
    erased = 0
    # Only the columns read here: a body can be megabytes, and it is overwritten anyway.
    rows = RawSubmission.objects.select_for_update().filter(pk__in=ids, erased_at__isnull=True)
    for submission in rows.only("pk", "meta", "reasons"):
        submission.body = b""
        submission.body_sha256 = ""
        submission.headers = {}
        submission.fields = {}
        submission.corrected_fields = None
        submission.idempotency_key = ""
        submission.meta = {k: v for k, v in submission.meta.items() if k in KEPT_META}
        submission.reasons = [
            {k: r[k] for k in ("code", "field") if k in r}
            for r in submission.reasons
            if isinstance(r, dict)
        ]
        submission.erased_at = at
        submission.save(update_fields=ERASED_COLUMNS)
        erased += 1
    return erased


def erase_lead_submissions(lead_ids: Iterable[int], *, at: dt.datetime) -> int:
    """Blank every submission that made or fed the leads `lead_ids` (see `erase_submissions`)."""
    ids = RawSubmission.objects.filter(lead_id__in=list(lead_ids)).values_list("pk", flat=True)
    return erase_submissions(list(ids), at=at)
