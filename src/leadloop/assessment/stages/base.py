"""The stage contract: what a stage reads, what it may change, and what it returns.

A stage is a function `run(ctx, **earlier) -> (findings, output)`:
- `ctx` gives the lead, the request's meta, the time, the rules and the source's policy;
- `earlier` are the outputs of the earlier stages named in `reads`, passed by name, each `None`
  when that stage failed (a stage handles that);
- `output` is the stage's frozen result (`context.py`), which the runner stores under `name`.
`lead_reads` names the lead fields it looks at and `lead_writes` the ones it may change (the
normalised or appended values); tests hold every stage to both lists.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

StageResult = tuple[list[Finding], Any]


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[..., StageResult]
    reads: tuple[str, ...] = ()
    lead_reads: frozenset[str] = frozenset()
    lead_writes: frozenset[str] = frozenset()

    @property
    def __name__(self) -> str:  # the name failures are recorded under (the function's)
        return self.run.__name__

    def __call__(self, ctx: Context) -> StageResult:
        """Run with the declared earlier outputs, and nothing else, from the context."""
        if not self.reads:
            return self.run(ctx)
        get = ctx.outputs.get
        return self.run(ctx, **{name: get(name) for name in self.reads})


def stage(
    name: str,
    *,
    reads: tuple[str, ...] = (),
    lead_reads: tuple[str, ...] = (),
    lead_writes: tuple[str, ...] = (),
) -> Callable[[Callable[..., StageResult]], Stage]:
    """Declare a stage function's name, inputs and outputs (see the module docstring)."""

    def declare(run: Callable[..., StageResult]) -> Stage:
        return Stage(name, run, reads, frozenset(lead_reads), frozenset(lead_writes))

    return declare
