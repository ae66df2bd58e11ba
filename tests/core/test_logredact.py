"""No key, token or password in a log line: the one filter on every configured handler."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.conf import settings
from django.test import Client

from leadloop.accounts import services as accounts_services
from leadloop.core.logredact import RedactFilter, redact
from leadloop.leads.services import revoke_source_key
from tests.factories.accounts import make_user
from tests.factories.leads import make_source_with_key

SOURCE_KEY = "lls_" + "A1b2C3d4" + "e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0u1V2w3X"
USER_KEY = "llu_" + "Zz9Yy8Xx" + "7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp9Oo8Nn7Mm6Ll5Kk"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"Not Found: /in/{SOURCE_KEY}", "Not Found: /in/[redacted]"),
        ("Unauthorized: /in/not-a-key-at-all?x=1", "Unauthorized: /in/[redacted]?x=1"),
        (f"key {USER_KEY} used", "key llu_Zz9Yy8Xx…[redacted] used"),
        (f"X-API-Key: {USER_KEY}", "X-API-Key: [redacted]"),
        ("x-source-key=abc123", "x-source-key=[redacted]"),
        ("Authorization: Bearer abc.def.ghi", "Authorization: Bearer [redacted]"),
        (
            "{'HTTP_AUTHORIZATION': 'Basic dXNlcjpwdw=='}",
            "{'HTTP_AUTHORIZATION': 'Basic [redacted]'}",
        ),
        ("Cookie: sessionid=s3cr3t; csrftoken=t0k3n", "Cookie: [redacted]; csrftoken=[redacted]"),
        ("GET /feed?key=abc&token=def&page=2", "GET /feed?key=[redacted]&token=[redacted]&page=2"),
        ("username=ann&password=hunter2", "username=ann&password=[redacted]"),
        ("ftp://user@host secret=xyz", "ftp://user@host secret=[redacted]"),
        ('{"api_token": "abc", "name": "Ann"}', '{"api_token": "[redacted]", "name": "Ann"}'),
        ("{'password': 'p@ss w0rd'}", "{'password': '[redacted]'}"),
        ("/login/ and /admin/ and /intake/12/", "/login/ and /admin/ and /intake/12/"),
        ("submission=12 state=processed", "submission=12 state=processed"),
    ],
)
def test_secrets_are_masked_and_the_rest_kept(line, expected):
    assert redact(line) == expected


def test_redacting_twice_changes_nothing_more():
    line = f"POST /in/{SOURCE_KEY}?token=abc Authorization: Bearer {USER_KEY}"

    once = redact(line)

    assert redact(once) == once
    assert SOURCE_KEY not in once
    assert USER_KEY not in once


def _record(msg, args, exc_info=None):
    return logging.LogRecord("t", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_redacts_args_and_leaves_the_final_text():
    class Request:
        def __str__(self) -> str:
            return f"<WSGIRequest: POST '/in/{SOURCE_KEY}'>"

    record = _record("%s from %s with %s", ("Unauthorized", Request(), {"password": "x"}))

    kept = RedactFilter().filter(record)

    assert kept is True
    assert record.getMessage() == (
        "Unauthorized from <WSGIRequest: POST '/in/[redacted]'> with {'password': '[redacted]'}"
    )
    assert record.args is None


def test_the_filter_redacts_a_traceback():
    try:
        raise ValueError(f"bad key {SOURCE_KEY}")
    except ValueError:
        import sys

        record = _record("failed", (), sys.exc_info())

    RedactFilter().filter(record)

    assert SOURCE_KEY not in record.exc_text
    assert "bad key lls_A1b2C3d4…[redacted]" in record.exc_text


def test_a_bad_format_string_still_logs_redacted():
    record = _record("%d keys: %s", ("x", SOURCE_KEY))

    RedactFilter().filter(record)

    assert SOURCE_KEY not in record.getMessage()


def test_every_configured_handler_carries_the_filter():
    handlers = settings.LOGGING["handlers"]

    assert handlers
    assert all("redact" in handler.get("filters", ()) for handler in handlers.values())
    assert settings.LOGGING["filters"]["redact"]["()"] == "leadloop.core.logredact.RedactFilter"


@pytest.fixture
def console_output():
    """What the configured console handler writes (the real handler, its stream swapped)."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactFilter) for f in h.filters)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield stream
    handler.setStream(previous)


def test_a_4xx_on_the_intake_logs_no_source_key(db, console_output, caplog):
    source, key = make_source_with_key("Provider")
    revoke_source_key(source, by=make_user("admin"))
    client = Client()

    unknown = client.post(f"/in/{key}x", "{}", content_type="application/json")
    revoked = client.post(f"/in/{key}", "{}", content_type="application/json")
    header = client.post(
        "/in/", "{}", content_type="application/json", headers={"X-Source-Key": key}
    )

    output = console_output.getvalue()
    assert (unknown.status_code, revoked.status_code, header.status_code) == (404, 401, 401)
    assert "Not Found: /in/[redacted]" in output
    assert "Unauthorized: /in/[redacted]" in output
    assert key not in output
    assert key[12:] not in output
    assert all(key not in record.getMessage() for record in caplog.records)


def test_a_rejected_api_key_and_its_headers_log_no_key(db, console_output):
    user = make_user("admin")
    key = accounts_services.issue_api_key(user).raw
    client = Client()

    response = client.get(
        f"/api/v1/me?key={key}", headers={"Authorization": f"Bearer {key}x", "X-API-Key": f"{key}y"}
    )
    # What a debugging line would write: the real request's query and headers.
    logging.getLogger("leadloop.test").warning(
        "query %s headers %s",
        response.wsgi_request.META["QUERY_STRING"],
        dict(response.wsgi_request.headers),
    )

    output = console_output.getvalue()
    assert response.status_code == 401
    assert "Unauthorized: /api/v1/me" in output
    assert "query key=[redacted] headers" in output
    assert "'Authorization': 'Bearer [redacted]'" in output
    assert "'X-Api-Key': '[redacted]'" in output
    assert key[12:] not in output


def test_a_failed_login_logs_no_password(db, console_output):
    make_user(username="ann", password="correct horse")

    Client().post("/login/", {"username": "ann", "password": "hunter2-secret"})
    logging.getLogger("leadloop.test").warning(
        "login body %s", json.dumps({"username": "ann", "password": "hunter2-secret"})
    )

    output = console_output.getvalue()
    assert "hunter2-secret" not in output
    assert '"password": "[redacted]"' in output


def test_every_handler_a_django_or_leadloop_record_reaches_redacts():
    from leadloop.core.logredact import RedactFilter

    names = ["django", "django.request", "django.server", "django.security.csrf", "leadloop.intake"]
    for name in names:
        handlers = []
        logger: logging.Logger | None = logging.getLogger(name)
        while logger is not None:
            handlers += logger.handlers
            logger = logger.parent if logger.propagate else None
        ours = [h for h in handlers if not type(h).__module__.startswith("_pytest")]
        assert ours, name
        for handler in ours:
            assert any(isinstance(f, RedactFilter) for f in handler.filters), (name, handler)
