"""Channel parsers: a stored submission's bytes → records (the sender's labels → values).

A record is not yet a lead: `intake.mapping` turns labels into lead fields with the source's
mapping and the English/Dutch synonyms. Each channel registers one parser here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

Record = dict[str, str]
Parser = Callable[["RawSubmission"], list[Record]]


class ParseError(ValueError):
    """The payload cannot be read; the message says why, for the sender and the reviewer."""


PARSERS: dict[str, Parser] = {}


def register(name: str) -> Callable[[Parser], Parser]:
    """Make `parser` the one that reads submissions of channel `name`."""

    def decorator(parser: Parser) -> Parser:
        PARSERS[name] = parser
        return parser

    return decorator


def parse(submission: RawSubmission) -> list[Record]:
    """The records in a submission, through its channel's parser."""
    _load_channels()
    parser = PARSERS.get(submission.channel)
    if parser is None:
        raise ParseError(f"No parser for channel {submission.channel!r}.")
    return parser(submission)


CHANNEL_MODULES = (
    "leadloop.intake.channels.http.parser",
    "leadloop.intake.channels.record",
    "leadloop.intake.channels.email.parser",
    "leadloop.intake.channels.feeds.parser",
    "leadloop.intake.imports.reader",
    "leadloop.intake.channels.ftp.client",
    "leadloop.intake.web_forms.parser",
)
_loaded = False


def _load_channels() -> None:
    # Importing a channel module registers its parser. Once per process: on the intake's hot
    # path the repeated imports cost a quarter of a millisecond per lead.
    global _loaded
    if _loaded:
        return
    import importlib

    for name in CHANNEL_MODULES:
        importlib.import_module(name)
    _loaded = True
