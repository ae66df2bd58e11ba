"""Stage: enrich. Appends what the lead did not say, from what it did, with the offline
providers (`assessment.enrichment.OFFLINE_PROVIDERS`); the HTTP providers run after the lead is
saved, in `enrich_lead_task`, never here."""

from __future__ import annotations

from leadloop.assessment.context import Context, Enrichment
from leadloop.assessment.enrichment import append_offline
from leadloop.assessment.findings import Finding
from leadloop.assessment.stages.base import stage

STAGE = "enrich"


@stage(
    STAGE,
    lead_reads=(
        "email",
        "organization",
        "company_name",
        "phone_e164",
        "country",
        "postal_code",
        "region",
        "language",
        "extra",
        "assessment",
    ),
    lead_writes=("organization_id", "company_name", "country", "region", "language"),
)
def enrich(ctx: Context) -> tuple[list[Finding], Enrichment]:
    # The providers record what they append in `ctx.appended` (enrichment/base.py: fill, note).
    found = append_offline(ctx)
    return found, Enrichment(ctx.appended)
