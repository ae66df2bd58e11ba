"""The assessment stages, in the one order they run. Each declares what it reads (lead fields
and earlier stages' outputs) and returns its findings and its output (`base.Stage`); none
writes to the database (`services.assess` stores the results)."""

from __future__ import annotations

from leadloop.assessment.stages.base import Stage
from leadloop.assessment.stages.dedup import find_duplicates
from leadloop.assessment.stages.device import inspect_device
from leadloop.assessment.stages.enrich import enrich
from leadloop.assessment.stages.fraud import screen_fraud
from leadloop.assessment.stages.readiness import judge_readiness
from leadloop.assessment.stages.score import score
from leadloop.assessment.stages.verify import verify

__all__ = ["PIPELINE", "Stage"]

PIPELINE: tuple[Stage, ...] = (
    verify,
    inspect_device,
    screen_fraud,
    enrich,
    find_duplicates,
    score,
    judge_readiness,
)
