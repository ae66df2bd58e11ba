"""The WSGI guard in front of Django: whole bodies, read with a deadline and a size limit."""

from __future__ import annotations

import io
import json
import threading
import time

import pytest
from django.core.signals import request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections

from leadloop.core.wsgi_guard import BodyGuard, Limits
from leadloop.intake.models import RawSubmission
from leadloop.leads.models import Lead
from tests.factories.leads import make_source_with_key


class SenderInput:
    """wsgi.input as granian gives it: read(n) blocks until n bytes are in or the body ends.

    `stall_at`: the sender stops after that many bytes and keeps the connection open until the
    test hangs up (`hang_up`); granian's read then returns what it has, here nothing.
    """

    def __init__(self, data: bytes, *, stall_at: int | None = None) -> None:
        self.data = data
        self.position = 0
        self.stall_at = stall_at
        self.reads = 0
        self.hung_up = threading.Event()

    def read(self, size: int) -> bytes:
        self.reads += 1
        if self.stall_at is not None and self.position + size > self.stall_at:
            self.hung_up.wait(10)
            return b""
        piece = self.data[self.position : self.position + size]
        self.position += len(piece)
        return piece

    def hang_up(self) -> None:
        self.hung_up.set()


class App:
    """The app behind the guard: records what it was given."""

    def __init__(self, *, hold: threading.Event | None = None) -> None:
        self.calls: list[dict[str, object]] = []
        self.hold = hold
        self.running = 0
        self.most_at_once = 0
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
        try:
            if self.hold is not None:
                self.hold.wait(10)
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length) if length else b""
            self.calls.append(
                {
                    "length": environ.get("CONTENT_LENGTH"),
                    "body": body,
                    "transfer_encoding": environ.get("HTTP_TRANSFER_ENCODING"),
                }
            )
        finally:
            with self.lock:
                self.running -= 1
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]


class ArrivalsAt:
    """The guard's app slots, telling when `expected` requests have come to them."""

    def __init__(self, slots, *, expected: int) -> None:
        self.slots = slots
        self.expected = expected
        self.arrived = 0
        self.lock = threading.Lock()
        self.all_arrived = threading.Event()

    def get(self) -> int:
        with self.lock:
            self.arrived += 1
            if self.arrived == self.expected:
                self.all_arrived.set()
        return self.slots.get()

    def put(self, slot: int) -> None:
        self.slots.put(slot)


def _limits(**overrides) -> Limits:
    values = {
        "app_threads": 1,
        "readers": 4,
        "max_body": 100_000,
        "max_form": 300_000,
        "memory": 50_000,
    }
    return Limits(**{**values, **overrides})


def _environ(stream, *, chunked=False, length=None, content_type="application/json", path="/in/k"):
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": path,
        "SCRIPT_NAME": "",
        "CONTENT_TYPE": content_type,
        "wsgi.input": stream,
    }
    if chunked:
        environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    if length is not None:
        environ["CONTENT_LENGTH"] = str(length)
    return environ


def _wait_until(condition, seconds=10):
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the guard did not get there"
        time.sleep(0.01)


def _call(app, environ):
    answer = {}

    def start_response(status, headers):
        answer["status"] = status
        answer["headers"] = dict(headers)

    answer["body"] = b"".join(app(environ, start_response))
    return answer


def test_a_chunked_body_reaches_the_app_whole_with_its_length():
    # Given a chunked body of several read pieces and no CONTENT_LENGTH
    data = json.dumps({"note": "x" * 90_000}).encode()
    app = App()
    # When it passes the guard
    answer = _call(BodyGuard(app, _limits()), _environ(SenderInput(data), chunked=True))
    # Then the app reads all of it, as a body of known length
    assert answer["status"] == "200 OK"
    assert app.calls == [{"length": str(len(data)), "body": data, "transfer_encoding": None}]


def test_a_chunked_body_over_the_limit_is_refused_with_413_problem_details():
    app = App()
    answer = _call(
        BodyGuard(app, _limits(max_body=1000)),
        _environ(SenderInput(b"a" * 5000), chunked=True),
    )
    assert answer["status"] == "413 Content Too Large"
    assert answer["headers"]["Content-Type"] == "application/problem+json"
    assert answer["headers"]["Connection"] == "close"
    assert json.loads(answer["body"]) == {
        "type": "https://leadloop.dev/problems/toolarge",
        "title": "Content too large",
        "status": 413,
        "detail": "The body is larger than 1000 bytes.",
        "instance": "/in/k",
    }
    assert app.calls == []


def test_an_xml_sender_gets_its_413_in_xml():
    answer = _call(
        BodyGuard(App(), _limits(max_body=10)),
        _environ(
            SenderInput(b"<lead>" + b"x" * 50 + b"</lead>"), chunked=True, content_type="text/xml"
        ),
    )
    assert answer["headers"]["Content-Type"] == "application/problem+xml"
    assert b"<status>413</status>" in answer["body"]


def test_a_declared_length_over_the_limit_is_refused_without_reading_the_body():
    stream = SenderInput(b"a" * 2000)
    answer = _call(BodyGuard(App(), _limits(max_body=1000)), _environ(stream, length=2000))
    assert answer["status"] == "413 Content Too Large"
    assert stream.reads == 0


def test_a_multipart_upload_may_be_as_large_as_the_import_allows():
    data = b"f" * 200_000  # over max_body, under max_form
    app = App()
    answer = _call(
        BodyGuard(app, _limits()),
        _environ(SenderInput(data), length=len(data), content_type="multipart/form-data; b=x"),
    )
    assert answer["status"] == "200 OK"
    assert app.calls[0]["body"] == data


def test_bodies_beyond_the_free_readers_are_answered_503_without_being_read():
    # Given one reading place, held by a sender that declared 100 bytes, sent 1 and stalls
    app = App()
    guard = BodyGuard(app, _limits(readers=1))
    stalled = SenderInput(b"{" + b" " * 99, stall_at=1)
    answers = []
    first = threading.Thread(
        target=lambda: answers.append(_call(guard, _environ(stalled, length=100)))
    )
    first.start()
    _wait_until(lambda: guard.reading.taken == 1)
    # When another body comes
    waiting = SenderInput(b"{}")
    answer = _call(guard, _environ(waiting, length=2))
    # Then it is answered 503 at once, without a read started, and the app never ran
    assert answer["status"] == "503 Service Unavailable"
    assert answer["headers"]["Retry-After"] == "5"
    assert json.loads(answer["body"])["type"] == "https://leadloop.dev/problems/busy"
    assert waiting.reads == 0
    # And when the stalled sender hangs up it is answered 400, and its place is free again
    stalled.hang_up()
    first.join(10)
    assert answers[0]["status"] == "400 Bad Request"
    assert guard.reading.taken == 0
    assert _call(guard, _environ(SenderInput(b"{}"), length=2))["status"] == "200 OK"
    assert [call["body"] for call in app.calls] == [b"{}"]


def test_a_body_cut_short_is_answered_400_and_not_passed_on():
    app = App()
    answer = _call(BodyGuard(app, _limits()), _environ(SenderInput(b"0123456789"), length=100))
    assert answer["status"] == "400 Bad Request"
    assert json.loads(answer["body"])["detail"] == "The connection ended after 10 of 100 bytes."
    assert app.calls == []


@pytest.mark.parametrize("length", ["abc", "-5"])
def test_a_content_length_that_is_not_a_size_is_answered_400(length):
    app = App()
    answer = _call(BodyGuard(app, _limits()), _environ(SenderInput(b""), length=length))
    assert answer["status"] == "400 Bad Request"
    assert app.calls == []


def test_a_request_without_a_body_goes_straight_to_the_app():
    stream = SenderInput(b"")
    app = App()
    environ = {**_environ(stream), "REQUEST_METHOD": "GET"}
    assert _call(BodyGuard(app, _limits()), environ)["status"] == "200 OK"
    assert stream.reads == 0
    assert app.calls == [{"length": None, "body": b"", "transfer_encoding": None}]


def test_the_app_runs_on_no_more_threads_than_it_is_given():
    # Given one app thread and four requests at once on their own (granian) threads
    hold = threading.Event()
    app = App(hold=hold)
    guard = BodyGuard(app, _limits(app_threads=1))
    guard.app_slots = ArrivalsAt(guard.app_slots, expected=4)
    threads = [
        threading.Thread(target=_call, args=(guard, _environ(SenderInput(b"{}"), length=2)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    # When all four have read their body and reached the app's door, one is inside
    assert guard.app_slots.all_arrived.wait(10)
    _wait_until(lambda: app.running == 1)
    hold.set()
    for thread in threads:
        thread.join(10)
    # Then they ran one after the other
    assert len(app.calls) == 4
    assert app.most_at_once == 1


@pytest.fixture
def django_app():
    # As Django's test client does: the test's transaction must survive the request.
    request_started.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)


@pytest.mark.django_db
def test_a_chunked_lead_post_through_django_makes_its_lead(django_app):
    # Given a source and a lead posted chunked, as granian hands it over (no CONTENT_LENGTH)
    _, key = make_source_with_key("Chunked sender")
    body = json.dumps(
        {"first_name": "Ria", "last_name": "Chunk", "email": "ria.chunk@example.nl"}
    ).encode()
    environ = {
        **_environ(io.BytesIO(body), chunked=True, path=f"/in/{key}"),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "80",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "QUERY_STRING": "",
    }
    # When it goes through the guard into Django
    answer = _call(BodyGuard(django_app, _limits()), environ)
    # Then the lead is made from it, not quarantined as an empty body
    assert answer["status"] == "201 Created"
    result = json.loads(answer["body"])
    lead = Lead.objects.get(pk=result["lead_id"])
    assert (lead.first_name, lead.last_name, lead.email) == ("Ria", "Chunk", "ria.chunk@example.nl")
    assert RawSubmission.objects.get(pk=result["submission_id"]).body == body
