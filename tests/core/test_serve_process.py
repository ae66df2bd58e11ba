"""`leadloop serve` as operators run it: granian, the body guard and the task worker, on loopback.

One real server for the module: a freshly migrated database of its own (SQLite, or PostgreSQL
when the suite runs on it), a free port, 2 web workers, TASKS_BACKEND=db. The tests that kill its
processes come last.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads processes from /proc"),
]

WEB_WORKERS = 2
HEADER_READ_TIMEOUT = 2  # seconds; LEADLOOP_HEADER_READ_TIMEOUT
MAX_BODY = 64 * 1024  # LEADLOOP_MAX_BODY_BYTES
STARTUP = 120  # seconds the server may take to come up (two cold Django processes)

SETUP = """
import json, django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0)
from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services
from leadloop.leads.models import ChannelKind
created = services.create_source(name="Serve test", kind=ChannelKind.HTTP_POST, by=SYSTEM)
print(json.dumps({"key": created.raw_key}))
"""

_numbers = itertools.count(1)
FIRST_NAMES = ("Anouk", "Bram", "Carla", "Daan", "Eva", "Floor", "Gijs", "Hanna", "Iris", "Joost")
LAST_NAMES = ("Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Dekker")


# --- Processes, read from /proc ----------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return sorted(found)


def _command(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _is_running(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _listeners(port: int) -> int:
    """Sockets listening on 127.0.0.1:port (each granian worker binds its own)."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1] == wanted and line.split()[3] == "0A")


def _wait_for(condition: Callable[[], Any], seconds: float, what: str, log: str = "") -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds} s: {what}\n{log}")


# --- The server --------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    key: str
    query: Callable[[str], list[tuple[Any, ...]]]
    log: Path

    def granian(self) -> int | None:
        return next((p for p in _children(self.process.pid) if "granian" in _command(p)), None)

    def task_worker(self) -> int | None:
        found = (p for p in _children(self.process.pid) if "leadloop.cli worker" in _command(p))
        return next(found, None)

    def web_workers(self) -> list[int]:
        main = self.granian()
        return _children(main) if main else []

    def is_up(self) -> bool:
        """Answering, with every web worker listening."""
        if _listeners(self.port) != WEB_WORKERS:
            return False
        try:
            return request(self, "GET", "/login/", timeout=5)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


@contextlib.contextmanager
def _database(workdir: Path) -> Iterator[tuple[dict[str, str], Callable[[str], list[Any]]]]:
    """A fresh database of the server's own: PostgreSQL when the suite runs on it, else SQLite."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        path = workdir / "serve.sqlite3"

        def query_sqlite(sql: str) -> list[Any]:
            with contextlib.closing(sqlite3.connect(path, timeout=20)) as conn:
                return conn.execute(sql).fetchall()

        yield {"LEADLOOP_SQLITE_PATH": str(path)}, query_sqlite
        return
    import psycopg

    # One a test process: with xdist, each worker running tests of this module has its own
    # server, and a shared name would let one worker drop the other's database.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    name = f"{os.environ.get('LEADLOOP_TEST_DATABASE', 'test_leadloop')}_serve_{worker}"
    admin = urlsplit(url)._replace(path="/postgres").geturl()
    server_url = urlsplit(url)._replace(path=f"/{name}").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')

    def query_postgres(sql: str) -> list[Any]:
        with psycopg.connect(server_url) as conn:
            return conn.execute(sql).fetchall()  # type: ignore[arg-type]

    try:
        yield {"DATABASE_URL": server_url}, query_postgres
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to serve (it stops its children); whatever is left after 40 s is killed."""
    groups = {process.pid}
    for child in _children(process.pid):
        with contextlib.suppress(ProcessLookupError):
            groups.add(os.getpgid(child))
    process.send_signal(signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=40)
    for group in groups:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("serve")
    with _database(workdir) as (database_env, query):
        env = {
            **{k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)},
            **database_env,
            "LEADLOOP_VAR_DIR": str(workdir),
            "TASKS_BACKEND": "db",
            "LEADLOOP_LOG_LEVEL": "WARNING",
            "LEADLOOP_HEADER_READ_TIMEOUT": str(HEADER_READ_TIMEOUT),
            "LEADLOOP_MAX_BODY_BYTES": str(MAX_BODY),
            "DJANGO_SETTINGS_MODULE": "leadloop.settings",
        }
        made = subprocess.run(
            [sys.executable, "-c", SETUP], env=env, capture_output=True, text=True, check=True
        )
        key = json.loads(made.stdout.strip().splitlines()[-1])["key"]
        port = _free_port()
        log = workdir / "serve.log"
        with log.open("wb") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "leadloop.cli", "serve", "--port", str(port),
                 "--workers", str(WEB_WORKERS)],
                env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        running = Server(process=process, port=port, key=key, query=query, log=log)
        try:
            deadline = time.monotonic() + STARTUP
            while not running.is_up():
                assert process.poll() is None, running.tail()
                assert time.monotonic() < deadline, running.tail()
                time.sleep(0.3)
            yield running
        finally:
            _stop(process)


# --- Clients -----------------------------------------------------------------------------------


def request(
    server: Server,
    method: str,
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    *,
    chunked: bool = False,
    timeout: float = 15,
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=timeout)
    try:
        connection.request(method, path, body, headers or {}, encode_chunked=chunked)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def lead() -> dict[str, str]:
    """A distinct, plausible person at a company of their own (no duplicates, no test data)."""
    n = next(_numbers)
    first, last = FIRST_NAMES[n % len(FIRST_NAMES)], LAST_NAMES[n % len(LAST_NAMES)]
    return {
        "first_name": first,
        "last_name": last,
        "email": f"{first}.{last}{n}@bouwbedrijf{n}.nl".lower().replace(" ", ""),
    }


def pieces(data: bytes, size: int) -> Iterator[bytes]:
    """A body handed to http.client piece by piece: sent with Transfer-Encoding: chunked."""
    return (data[i : i + size] for i in range(0, len(data), size))


def post_lead(
    server: Server, person: dict[str, str] | None = None, *, chunked: bool = False
) -> tuple[int, dict[str, Any]]:
    data = json.dumps(person or lead()).encode()
    status, _, answer = request(
        server, "POST", f"/in/{server.key}", pieces(data, 20) if chunked else data,
        {"Content-Type": "application/json"}, chunked=chunked,
    )  # fmt: skip
    return status, json.loads(answer)


def _stalled_body(server: Server) -> socket.socket:
    """A sender that declares a 1000-byte lead, sends one byte of it and then nothing."""
    sender = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sender.sendall(
        f"POST /in/{server.key} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{".encode()
    )
    return sender


def _everything(sender: socket.socket, timeout: float) -> bytes:
    """All the server sends until it closes the connection (bounded by `timeout`)."""
    sender.settimeout(timeout)
    received = b""
    with contextlib.suppress(ConnectionResetError):
        while chunk := sender.recv(65536):
            received += chunk
    sender.close()
    return received


def _response(sender: socket.socket, timeout: float) -> tuple[bytes, bytes]:
    """The status line and body of the one answer on `sender` (bounded by `timeout`)."""
    sender.settimeout(timeout)
    received = b""
    while b"\r\n\r\n" not in received:
        received += sender.recv(65536) or b"(closed)"
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sender.recv(65536) or b"(closed)"
    sender.close()
    return head.split(b"\r\n", 1)[0], body


def _unanswered(sender: socket.socket) -> bool:
    sender.setblocking(False)
    try:
        sender.recv(1, socket.MSG_PEEK)
    except BlockingIOError:
        return True
    finally:
        sender.setblocking(True)
    return False


def _lead_ids(server: Server) -> set[int]:
    return {row[0] for row in server.query("SELECT id FROM leads_lead")}


# --- Chunked bodies (item 4) -------------------------------------------------------------------


def test_a_chunked_json_post_to_the_intake_makes_its_lead(server):
    person = lead()
    status, answer = post_lead(server, person, chunked=True)
    assert status == 201, answer
    assert answer["disposition"] == "accepted"
    rows = server.query(
        f"SELECT first_name, last_name, email FROM leads_lead WHERE id = {int(answer['lead_id'])}"
    )
    assert rows == [(person["first_name"], person["last_name"], person["email"])]


def test_a_chunked_api_post_makes_its_lead(server):
    person = lead()
    data = json.dumps(person).encode()
    status, _, answer = request(
        server, "POST", "/api/v1/leads", pieces(data, 16),
        {"Content-Type": "application/json", "X-API-Key": server.key}, chunked=True,
    )  # fmt: skip
    assert status == 201, answer
    created = json.loads(answer)
    assert (created["first_name"], created["email"]) == (person["first_name"], person["email"])
    assert created["id"] in _lead_ids(server)


def test_an_oversized_chunked_post_is_refused_with_413_problem_details(server):
    submissions = server.query("SELECT COUNT(*) FROM intake_rawsubmission")
    data = json.dumps({**lead(), "notes": "x" * MAX_BODY}).encode()
    status, headers, answer = request(
        server, "POST", f"/in/{server.key}", pieces(data, 8192),
        {"Content-Type": "application/json"}, chunked=True,
    )  # fmt: skip
    assert status == 413
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(answer) == {
        "type": "https://leadloop.dev/problems/toolarge",
        "title": "Content too large",
        "status": 413,
        "detail": f"The body is larger than {MAX_BODY} bytes.",
        "instance": f"/in/{server.key}",
    }
    # As for a too-large body with a Content-Length: nothing is stored.
    assert server.query("SELECT COUNT(*) FROM intake_rawsubmission") == submissions


# --- Slow clients (item 3) ---------------------------------------------------------------------


def test_stalled_senders_hold_no_thread_that_other_requests_need(server):
    # Given six senders whose bodies stall (more than one per web worker, whichever worker the
    # kernel hands each connection to) and one whose headers stall
    stalled = [_stalled_body(server) for _ in range(6)]
    half_headers = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    half_headers.sendall(f"POST /in/{server.key} HTTP/1.1\r\nHost: 127".encode())
    # When others post leads and open pages meanwhile
    answers = [post_lead(server)[0] for _ in range(4)]
    pages = [request(server, "GET", "/login/")[0] for _ in range(4)]
    # Then they are answered while the slow ones still hang
    assert answers == [201, 201, 201, 201]
    assert pages == [200, 200, 200, 200]
    assert all(_unanswered(sender) for sender in stalled)
    # And the stalled headers are cut off by the header time-out
    assert _everything(half_headers, HEADER_READ_TIMEOUT + 20) == b""
    # And a stalled body that ends early is answered 400, and nothing is stored from it
    submissions = server.query("SELECT COUNT(*) FROM intake_rawsubmission")
    for sender in stalled:
        sender.shutdown(socket.SHUT_WR)
        status, body = _response(sender, 30)
        assert status == b"HTTP/1.1 400 Bad Request"
        assert json.loads(body)["detail"] == "The connection ended after 1 of 1000 bytes."
    assert server.query("SELECT COUNT(*) FROM intake_rawsubmission") == submissions


# --- Crashes (item 2) --------------------------------------------------------------------------


def test_a_killed_web_worker_is_replaced_and_every_answered_lead_is_kept(server):
    # Given leads being posted all the time
    granian, victim = server.granian(), server.web_workers()[0]
    results: list[tuple[Any, int | None]] = []
    stop = threading.Event()

    def post_all_the_time() -> None:
        while not stop.is_set():
            try:
                status, answer = post_lead(server)
                results.append((status, answer.get("lead_id")))
            except (OSError, http.client.HTTPException) as exc:
                results.append((type(exc).__name__, None))

    poster = threading.Thread(target=post_all_the_time)
    poster.start()
    try:
        _wait_for(lambda: len(results) >= 5, 30, "five leads posted before the kill", server.tail())
        # When one web worker is killed mid-stream
        os.kill(victim, signal.SIGKILL)
        before = len(results)
        # Then the service answers again within seconds
        _wait_for(
            lambda: sum(1 for status, _ in results[before:] if status == 201) >= 10,
            20,
            "ten leads answered 201 after the kill",
            server.tail(),
        )
    finally:
        stop.set()
        poster.join(30)
    # and granian replaced the worker instead of shutting down
    assert server.granian() == granian

    def respawned() -> list[int] | None:
        workers = server.web_workers()
        return workers if len(workers) == WEB_WORKERS and victim not in workers else None

    assert victim not in _wait_for(respawned, 30, "granian respawned the worker", server.tail())
    # and every lead answered 201 is in the database
    answered = {lead_id for status, lead_id in results if status == 201}
    assert answered
    assert answered <= _lead_ids(server)
    # and a request the dying worker held failed as a broken connection, never as an answer
    assert {status for status, _ in results if isinstance(status, int)} == {201}, results


def test_a_killed_task_worker_is_started_again(server):
    worker = _wait_for(server.task_worker, 10, "a task worker")
    os.kill(worker, signal.SIGKILL)
    replacement = _wait_for(
        lambda: (w := server.task_worker()) and w != worker and w, 20, "a new task worker"
    )
    assert _is_running(replacement)
    assert server.process.poll() is None


def test_a_killed_granian_is_started_again_without_its_old_workers(server):
    # Given granian's main process and its workers
    granian, workers = server.granian(), server.web_workers()
    # When the main process is killed (its workers live on as orphans, holding the port)
    os.kill(granian, signal.SIGKILL)
    # Then serve clears them out and starts granian again, which serves
    new = _wait_for(
        lambda: (g := server.granian()) and g != granian and g, 20, "a new granian main process"
    )
    _wait_for(server.is_up, STARTUP, "the new granian answers")
    assert server.granian() == new
    assert not any(_is_running(pid) for pid in workers)
    assert post_lead(server)[0] == 201
