"""The assessment stages, in the one order they run. Each takes the shared `Context` and returns
its findings; none writes to the database (`services.assess` stores the results)."""

from __future__ import annotations

from collections.abc import Callable

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding
from leadloop.assessment.stages.dedup import find_duplicates
from leadloop.assessment.stages.device import inspect_device
from leadloop.assessment.stages.enrich import enrich
from leadloop.assessment.stages.fraud import screen_fraud
from leadloop.assessment.stages.readiness import judge_readiness
from leadloop.assessment.stages.score import score
from leadloop.assessment.stages.verify import verify

Stage = Callable[[Context], list[Finding]]

PIPELINE: tuple[Stage, ...] = (
    verify,
    inspect_device,
    screen_fraud,
    enrich,
    find_duplicates,
    score,
    judge_readiness,
)
