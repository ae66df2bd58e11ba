"""Child submissions: one record of a multi-record payload, stored as JSON by the core."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from leadloop.intake.channels import ParseError, Record, register

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

RECORD_CHANNEL = "record"


@register(RECORD_CHANNEL)
def parse_record(submission: RawSubmission) -> list[Record]:
    try:
        data = json.loads(bytes(submission.body).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParseError(f"A stored record is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError("A stored record must be an object.")
    return [{str(k): "" if v is None else str(v) for k, v in data.items()}]
