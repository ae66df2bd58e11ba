"""Stage: device."""

from __future__ import annotations

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "device"


def inspect_device(ctx: Context) -> list[Finding]:
    return []
