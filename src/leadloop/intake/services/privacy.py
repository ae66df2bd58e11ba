"""Privacy: erase submissions, keeping only what the law and the statistics need."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from leadloop.intake.models import RawSubmission

logger = logging.getLogger(__name__)


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
