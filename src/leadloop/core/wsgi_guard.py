"""Between granian and Django: every request body is read in full, within a size limit, before
Django runs, and Django runs on a fixed number of threads per worker.

What granian 2.8 does on its own (measured, docs/security/server.md):
- It calls the WSGI app as soon as the headers are in; `wsgi.input.read(n)` then blocks until
  n bytes or the end of the body, with no time-out. A client that declared `Content-Length: 1000`
  and sent one byte held the worker's only Django thread until it hung up; two such clients
  stalled every request.
- A read cannot be abandoned: answering a request while another thread still waits in its
  body's read froze the whole worker (the reader ends up holding the GIL) until the sender hung
  up. So the body is read on the request's own thread, and a stalled sender keeps that thread
  until it hangs up; what this module can do is keep such threads away from Django.
- A chunked body comes without CONTENT_LENGTH, which Django reads as an empty body: a lost lead.

So, per request with a body:
1. A declared length over the limit is refused (413) without reading a byte.
2. The body is read only in one of the worker's `readers` places; with none free the answer is
   503 at once, before any read. granian has `app_threads + readers` threads, so senders that
   stall can hold the reading places but never Django's threads.
3. The body goes into a spool (memory, then disk), at most `limit` bytes (413 beyond, chunked or
   not); a body that ends early is answered 400 and not passed on.
4. Django gets the spooled body with its CONTENT_LENGTH and runs on one of `app_threads` threads.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from tempfile import SpooledTemporaryFile
from typing import IO, Any
from xml.sax.saxutils import escape

from leadloop.problems import PROBLEM_TYPE_BASE

logger = logging.getLogger("leadloop.server")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

PIECE = 64 * 1024


@dataclass(frozen=True)
class Limits:
    app_threads: int  # Django runs on at most this many threads at once
    readers: int  # request bodies being read at once
    max_body: int  # any body but a multipart form
    max_form: int  # a multipart form (file uploads: the import)
    memory: int  # spooled in memory up to this many bytes, then to a temporary file
    temp_dir: str | None = None


class BodyGuard:
    """A WSGI app that reads request bodies safely before calling `app` (see the module doc)."""

    def __init__(self, app: WSGIApp, limits: Limits) -> None:
        self.app = app
        self.limits = limits
        # Django's places as tokens in a C-implemented queue: taking one blocks in C, without the
        # Python-level Condition of threading.Semaphore, whose hand-over between granian's
        # threads showed up in a fifth of py-spy's busy samples under load.
        self.app_slots: queue.SimpleQueue[int] = queue.SimpleQueue()
        for slot in range(limits.app_threads):
            self.app_slots.put(slot)
        self.reading = _Places(limits.readers)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = environ.get("CONTENT_LENGTH") or ""
        if not chunked and declared in ("", "0"):
            return self._run_app(environ, start_response)
        length = None
        if not chunked:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                return _problem(
                    environ, start_response, 400, "Bad Content-Length", "badlength",
                    "Content-Length is not a number of bytes.",
                )  # fmt: skip
        multipart = environ.get("CONTENT_TYPE", "").lower().startswith("multipart/form-data")
        limit = self.limits.max_form if multipart else self.limits.max_body
        if length is not None and length > limit:
            return _too_large(environ, start_response, limit)
        if not self.reading.take():
            logger.warning("request body refused, every reader busy path=%s", _path(environ))
            return _problem(
                environ, start_response, 503, "Server busy", "busy",
                "Too many uploads at once; send the request again shortly.",
                retry_after=5,
            )  # fmt: skip
        spool = SpooledTemporaryFile(  # noqa: SIM115 - closed after the app ran, below
            max_size=self.limits.memory if multipart else limit + PIECE,
            dir=self.limits.temp_dir,
        )
        try:
            try:
                size, outcome = _read(environ["wsgi.input"], spool, length=length, limit=limit)
            finally:
                self.reading.free()
            if outcome == "toolarge":
                return _too_large(environ, start_response, limit)
            if outcome == "incomplete":
                logger.warning("request body ended early path=%s", _path(environ))
                return _problem(
                    environ, start_response, 400, "Incomplete body", "incomplete",
                    f"The connection ended after {size} of {length} bytes.",
                )  # fmt: skip
            spool.seek(0)
            environ["wsgi.input"] = spool
            environ["CONTENT_LENGTH"] = str(size)
            environ.pop("HTTP_TRANSFER_ENCODING", None)
            return self._run_app(environ, start_response)
        finally:
            spool.close()

    def _run_app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        # A streamed response (an export) is iterated after this returns, outside the slot: it
        # only reads, and reads never wait for SQLite's writer lock.
        slot = self.app_slots.get()
        try:
            return self.app(environ, start_response)
        finally:
            self.app_slots.put(slot)


def _read(stream: Any, spool: IO[bytes], *, length: int | None, limit: int) -> tuple[int, str]:
    """Copy the body (`length` bytes, or a chunked body to its end) into `spool`, at most `limit`.

    Returns the bytes copied and "complete", "toolarge" or "incomplete". granian's read returns
    short only at the end of the body or when the connection broke.
    """
    size = 0
    while True:
        want = PIECE if length is None else min(PIECE, length - size)
        if want <= 0:
            return size, "complete"
        data = stream.read(want)
        if size + len(data) > limit:
            return size, "toolarge"
        spool.write(data)
        size += len(data)
        if len(data) < want:
            return size, "complete" if length is None else "incomplete"


class _Places:
    """A count of places taken, never more than `limit`; taking one never waits."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.taken = 0
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.taken >= self.limit:
                return False
            self.taken += 1
            return True

    def free(self) -> None:
        with self.lock:
            self.taken -= 1


def _path(environ: dict[str, Any]) -> str:
    return str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))


def _too_large(
    environ: dict[str, Any], start_response: Callable[..., Any], limit: int
) -> Iterable[bytes]:
    return _problem(
        environ, start_response, 413, "Content too large", "toolarge",
        f"The body is larger than {limit} bytes.",
    )  # fmt: skip


REASONS = {400: "Bad Request", 413: "Content Too Large", 503: "Service Unavailable"}


def _problem(
    environ: dict[str, Any],
    start_response: Callable[..., Any],
    status: int,
    title: str,
    kind: str,
    detail: str,
    *,
    retry_after: int | None = None,
) -> Iterable[bytes]:
    """RFC 9457 problem details, in XML for a sender that posts XML (as the intake answers)."""
    body = {
        "type": PROBLEM_TYPE_BASE + kind,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": _path(environ),
    }
    if "xml" in environ.get("CONTENT_TYPE", "").lower():
        inner = "".join(f"<{k}>{escape(str(v))}</{k}>" for k, v in body.items())
        content = (
            f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<problem xmlns="urn:ietf:rfc:7807">{inner}</problem>'
        ).encode()
        content_type = "application/problem+xml"
    else:
        content = json.dumps(body, ensure_ascii=False).encode()
        content_type = "application/problem+json"
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(content))),
        # The rest of the body was not read: this connection cannot carry another request.
        ("Connection", "close"),
    ]
    if retry_after is not None:
        headers.append(("Retry-After", str(retry_after)))
    start_response(f"{status} {REASONS[status]}", headers)
    return [content]


def limits_from_settings() -> Limits:
    from django.conf import settings

    return Limits(
        app_threads=settings.LEADLOOP_WEB_THREADS,
        readers=settings.LEADLOOP_BODY_READERS,
        max_body=settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        # The file itself plus the form's other fields.
        max_form=settings.LEADLOOP_IMPORT_MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE,
        memory=settings.FILE_UPLOAD_MAX_MEMORY_SIZE,
        temp_dir=settings.FILE_UPLOAD_TEMP_DIR,
    )


def guard(app: WSGIApp, limits: Limits | None = None) -> BodyGuard:
    return BodyGuard(app, limits or limits_from_settings())
