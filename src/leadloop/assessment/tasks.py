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


@retrying_task(max_attempts=3)
def refresh_scores_task() -> int:
    """Let engagement fade and SLA urgency rise on open leads; returns how many changed."""
    from leadloop.assessment import services

    return services.refresh_scores()


@retrying_task(max_attempts=3)
def assess_pending_task() -> int:
    """Assess leads written without an assessment (imports); returns how many."""
    from leadloop.assessment import pending

    return pending.assess_pending()
