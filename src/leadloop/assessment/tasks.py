"""Background work of the assessment; each task loads by id and calls one service."""

from __future__ import annotations

from leadloop.assessment import enrichment
from leadloop.core.retry import retrying_task


class EnrichmentRetry(Exception):
    """A provider timed out or answered 5xx: raised so the task wrapper tries again later."""


@retrying_task(max_attempts=4, base_seconds=30.0)
def enrich_lead_task(lead_id: int) -> int:
    """Append HTTP providers' data to a stored lead (safe to run twice); returns how many
    fields were filled."""
    run = enrichment.enrich_stored_lead(lead_id)
    if run.should_retry:
        raise EnrichmentRetry(", ".join(o.error for o in run.outcomes if o.retryable))
    return sum(len(o.filled) for o in run.outcomes)
