"""Stage: dedup."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "dedup"


def find_duplicates(ctx: Context) -> list[Finding]:
    return []
