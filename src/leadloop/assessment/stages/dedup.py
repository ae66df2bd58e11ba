"""Stage: de-duplication. Is this person already in the database?

The best match at or above `dedup.DUPLICATE_AT` is the output's `match`; what happens to it is the
source's policy (merge, review or allow), applied by the intake. Weaker look-alikes are kept as
its `candidates` and mentioned, never acted on. Device signals play no part (see dedup.py).
"""

from __future__ import annotations

from django.utils.translation import gettext_noop

from leadloop.assessment.context import Context, DuplicateResult
from leadloop.assessment.dedup import matching as dedup
from leadloop.assessment.findings import Finding, finding
from leadloop.assessment.stages.base import stage

STAGE = "dedup"
# Look-alikes below the duplicate threshold named on the lead page, at most.
SHOWN_CANDIDATES = 2


_NONE = DuplicateResult(None, ())


@stage(
    STAGE,
    lead_reads=(
        "merged_into_id",
        "email",
        "phone_e164",
        "first_name",
        "last_name",
        "name_key",
        "company_name",
        "organization_id",
        "postal_code",
        "house_number",
        "street",
        "city",
        "region",
        "source",
    ),
)
def find_duplicates(ctx: Context) -> tuple[list[Finding], DuplicateResult]:
    lead = ctx.lead
    if lead.merged_into_id is not None:
        return [], _NONE  # it lives on in the lead it was merged into
    # A stored lead is not matched again with the leads a person already said are someone else.
    exclude = dedup.dismissed_partners(lead.pk) if lead.pk is not None else []
    matches = dedup.find_matches(lead, min_score=dedup.CANDIDATE_AT, exclude=exclude)
    best = matches[0] if matches and matches[0].score >= dedup.DUPLICATE_AT else None
    findings = []
    if best is not None:
        findings.append(
            finding(
                STAGE,
                "duplicate",
                gettext_noop("possible duplicate of lead #%(lead_id)d (%(score)s): %(reasons)s"),
                lead_id=best.lead_id,
                score=best.score,
                reasons=", ".join(best.reasons),
            )
        )
    for match in [m for m in matches if m is not best][:SHOWN_CANDIDATES]:
        findings.append(
            finding(
                STAGE,
                "similar",
                gettext_noop("looks like lead #%(lead_id)d (%(score)s): %(reasons)s"),
                lead_id=match.lead_id,
                score=match.score,
                reasons=", ".join(match.reasons),
            )
        )
    return findings, DuplicateResult(best, tuple(matches))
