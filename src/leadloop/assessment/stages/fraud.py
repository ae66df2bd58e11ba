"""Stage: fraud."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "fraud"


def screen_fraud(ctx: Context) -> list[Finding]:
    return []
