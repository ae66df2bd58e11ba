"""Keyset-page cursors: the sort value and id a page ends with, opaque to the client.

    next_cursor = encode_cursor(last.created_at, last.pk)
    created_at, pk = decode_cursor(cursor, "datetime")

A cursor is URL-safe base64 (no padding) of the JSON `[value, id]`; datetimes travel as ISO 8601.
A cursor that does not decode to the expected kind is a ValidationFailed on the `cursor` field,
never a server error.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from typing import Any, Literal

from django.utils.translation import gettext as _

from leadloop.errors import ValidationFailed

Kind = Literal["datetime", "int", "float", "text"]


def encode_cursor(value: Any, pk: int) -> str:
    if isinstance(value, dt.datetime):
        value = value.isoformat()
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kind: Kind) -> tuple[Any, int]:
    """The (value, id) of `cursor`, the value read as `kind`."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        value, pk = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if kind == "datetime":
            value = dt.datetime.fromisoformat(value)
        elif kind == "int":
            value = int(value)
        elif kind == "float":
            value = float(value)
        elif not isinstance(value, str):
            raise TypeError(value)
        if isinstance(pk, bool) or not isinstance(pk, int):
            raise TypeError(pk)
        return value, pk
    except (ValueError, TypeError, OverflowError, binascii.Error) as exc:
        raise ValidationFailed(
            _("The cursor is not valid."), errors={"cursor": [_("Not valid.")]}
        ) from exc
