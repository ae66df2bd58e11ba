"""Stage: enrich. Appends what the lead did not say, from what it did, with the offline
providers (`assessment.enrichment.OFFLINE_PROVIDERS`); the HTTP providers run after the lead is
saved, in `enrich_lead_task`, never here."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.enrichment import append_offline
from leadloop.assessment.findings import Finding

STAGE = "enrich"


def enrich(ctx: Context) -> list[Finding]:
    return append_offline(ctx)
