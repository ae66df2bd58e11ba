"""Stage: score."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "score"


def score(ctx: Context) -> list[Finding]:
    return []
