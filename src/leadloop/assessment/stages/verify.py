"""Stage: verify."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "verify"


def verify(ctx: Context) -> list[Finding]:
    return []
