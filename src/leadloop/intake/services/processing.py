"""Process a stored submission: decide its outcome with no lock held, then apply it briefly."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from leadloop.accounts.actors import Actor, SourceActor
from leadloop.assessment import enrichment as assessment_enrichment
from leadloop.assessment import services as assessment_services
from leadloop.assessment.context import Verdict
from leadloop.core import prepared
from leadloop.errors import ValidationFailed
from leadloop.intake import channels
from leadloop.intake.channels import ParseError
from leadloop.intake.channels.record import RECORD_CHANNEL
from leadloop.intake.mapping import Candidate, MappingError, map_record
from leadloop.intake.models import Disposition, RawSubmission, SubmissionState
from leadloop.intake.outcome import (
    Created,
    FannedOut,
    HeldForReview,
    Merged,
    Outcome,
    Quarantined,
    Rejected,
    Repeated,
    clean_keeping_lead,
    reason,
)
from leadloop.intake.services.receiving import MAX_RECORDS, REPEAT_WINDOW, _sha256
from leadloop.leads import services as leads_services
from leadloop.leads.contact import (
    has_minimum_contact,
    missing_contact_field,
    missing_contact_message,
)
from leadloop.leads.models import Campaign, Lead, OnInvalidLead, Source

logger = logging.getLogger(__name__)


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
        message = gettext_noop("The payload could not be read (%(error)s).")
        return Quarantined([reason("parse_error", message, error=type(exc).__name__)])
    if not records:
        return Quarantined([reason("empty", gettext_noop("No lead found in it."))])
    if len(records) > MAX_RECORDS:
        message = gettext_noop("More than %(n)d records in one payload.")
        return Quarantined([reason("too_many", message, n=MAX_RECORDS)])
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
        case HeldForReview(reasons):
            logger.info("submission held for review id=%s reasons=%s", submission.pk, reasons)
            return _finish(
                submission,
                state=SubmissionState.QUARANTINED,
                disposition=Disposition.REVIEW,
                reasons=reasons,
            )
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
            merged = reason(
                "merged",
                gettext_noop("Same person as lead %(id)d (%(why)s); added to its timeline."),
                id=existing.pk,
                why=", ".join(verdict.duplicate.reasons),
            )
            return _finish(
                submission,
                state=SubmissionState.PROCESSED,
                disposition=Disposition.DUPLICATE,
                reasons=[*warnings, merged],
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
    rule = source.minimum_contact
    if not has_minimum_contact(data, rule):
        return _refused(
            source,
            [reason("no_contact", missing_contact_message(rule), missing_contact_field(rule))],
        )
    previous = _repeat_of(submission, data)
    if previous is not None:
        message = gettext_noop("Same lead as submission %(id)d.")
        return Repeated(previous.lead_id, [reason("repeat", message, id=previous.pk)])
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
        has_contact=partial(has_minimum_contact, rule=rule),
    )
    if lead is None:
        return _refused(source, warnings)
    verdict = assessment_services.assess(lead, meta=submission.meta)
    if verdict.fraud_verdict == Verdict.REJECT:
        return Rejected(warnings + assessment_services.fraud_reasons(verdict))
    if verdict.duplicate is not None and verdict.policy.on_duplicate == "merge":
        return Merged(verdict, by, warnings)
    lead.status = assessment_services.initial_status(verdict)
    return Created(verdict, by, warnings)


def _refused(source: Source, reasons: list[dict[str, str]]) -> Rejected | HeldForReview:
    """Refused by the rules: told to the sender, or kept for a person (the source's policy)."""
    if source.invalid_lead_policy == OnInvalidLead.REVIEW:
        return HeldForReview(reasons)
    return Rejected(reasons)


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
