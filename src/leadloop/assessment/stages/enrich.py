"""Stage: enrich."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "enrich"


def enrich(ctx: Context) -> list[Finding]:
    return []
