"""The offline providers' interface, and how an appended value is recorded on the context."""

from __future__ import annotations

from typing import Any, Protocol

from leadloop.assessment.context import Context
from leadloop.assessment.findings import Finding

STAGE = "enrich"


class Provider(Protocol):
    """An offline provider: looks at the lead in `ctx` and appends what it can (no I/O but
    cached lookups). Returns findings that say what it appended."""

    name: str

    def append(self, ctx: Context) -> list[Finding]: ...


_last_stamp: list[tuple[Any, str]] = [(None, "")]


def _stamp(ctx: Context) -> str:
    # One lead asks for its date up to eight times; isoformat() is a noticeable part of the
    # stage's few microseconds. The (now, text) pair is swapped whole, so threads cannot mix.
    memo = _last_stamp[0]
    if memo[0] is not ctx.now:
        memo = (ctx.now, ctx.now.isoformat(timespec="seconds"))
        _last_stamp[0] = memo
    return memo[1]


def _finding(code: str, template: str, **data: Any) -> Finding:
    """Like `findings.finding`, filled in English (the pipeline's language) without a gettext
    lookup per finding, which cost ~5 µs each (measured); pages render it again from "_t"."""
    try:
        message = template % data
    except (KeyError, ValueError, TypeError):
        message = template
    return Finding(STAGE, code, message, 0, {**data, "_t": template})


def fill(ctx: Context, column: str, value: Any, *, provider: str, **details: Any) -> bool:
    """Set the lead's empty field `column` to `value` and record where it came from.

    False (and nothing recorded) when the lead already has a value: what the person gave wins.
    """
    if value in ("", None) or getattr(ctx.lead, column) not in ("", None):
        return False
    setattr(ctx.lead, column, value)
    ctx.appended[column] = {"value": value, "provider": provider, "at": _stamp(ctx), **details}
    return True


def note(ctx: Context, key: str, value: Any, *, provider: str, **details: Any) -> None:
    """Record an appended value that has no lead column (time zone, line type, …)."""
    ctx.appended[key] = {"value": value, "provider": provider, "at": _stamp(ctx), **details}
