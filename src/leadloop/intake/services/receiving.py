"""Receive: store an inbound payload exactly as it came, in its own transaction, first."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.core import prepared, ratelimit, retry
from leadloop.errors import Conflict
from leadloop.intake import throttle as intake_throttle
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import Source

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
