"""Stage: readiness."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "readiness"


def judge_readiness(ctx: Context) -> list[Finding]:
    return []
