import base64
import datetime as dt
import json

import pytest

from leadloop.core.cursors import decode_cursor, encode_cursor
from leadloop.errors import ValidationFailed


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        (dt.datetime(2026, 12, 5, 2, 30, 1, 123456, tzinfo=dt.UTC), "datetime"),
        (42, "int"),
        (0.8125, "float"),
        ("de Vries", "text"),
        ("", "text"),
    ],
)
def test_a_cursor_gives_back_what_it_was_made_of(value, kind):
    cursor = encode_cursor(value, 1234)

    assert decode_cursor(cursor, kind) == (value, 1234)
    assert not set(cursor) & set("=+/")


def _raw(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("cursor", "kind"),
    [
        ("", "int"),
        ("%%%", "int"),
        ("not-base64!", "datetime"),
        (_raw("a string"), "int"),
        (_raw(["yesterday", 3]), "datetime"),
        (_raw(["x", 3]), "int"),
        (_raw([5, 3]), "text"),
        (_raw([5, "3"]), "int"),
        (_raw([5, True]), "int"),
        (_raw([1e400, 3]), "int"),
        (_raw([5, 3, 4]), "int"),
        (base64.urlsafe_b64encode(b"\xff\xfe").decode(), "int"),
    ],
)
def test_a_bad_cursor_is_a_field_error_not_a_crash(cursor, kind):
    with pytest.raises(ValidationFailed) as caught:
        decode_cursor(cursor, kind)

    assert set(caught.value.errors) == {"cursor"}
