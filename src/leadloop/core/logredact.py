"""Keep secrets out of the logs: one filter on every handler (settings.LOGGING).

Django logs every 4xx with the request path, and the HTTP intake carries the source key in its
path (/in/<key>): a mistyped or revoked key was written to the log in full, and anyone who reads
the logs could post leads as that provider. The filter rewrites each record before any handler
formats it, whatever logger wrote it:

- the key in an /in/<key> path;
- anything shaped like a Leadloop key (`lls_…` source keys, `llu_…` API keys), keeping only the
  lookup prefix the UI and `leadloop sources list` show anyway;
- the value of an X-API-Key, X-Source-Key, Authorization, Cookie or Set-Cookie header;
- the value of any query, form or JSON field whose name holds key, token, password, passwd,
  secret or signature (`?key=…`, `password=…`, `"api_token": "…"`).

The message is formatted with its args first and the result redacted (an arg can be an object
whose text holds a path), so a record leaves the filter with its final text and no args. A
traceback is formatted and redacted the same way.
"""

from __future__ import annotations

import logging
import re

MASK = "[redacted]"
# A Leadloop secret: "ll" + kind + "_" + 43 characters of token_urlsafe(32) (accounts.services).
# The first 12 characters are the stored lookup prefix, shown in the UI; the rest is the secret.
_KEY_SHAPE = re.compile(r"\b(ll[a-z]_[A-Za-z0-9_-]{8})[A-Za-z0-9_-]{12,}")
_INTAKE_PATH = re.compile(r"(/in/)(?!\[redacted\])[^/\s?#\"'<>]+")
# The scheme (Bearer, Basic) is kept; `?+` (possessive) stops a second pass from taking the word
# "Bearer" for the value.
_HEADER = re.compile(
    r"((?:http_)?(?:x[-_]api[-_]key|x[-_]source[-_]key|authorization|proxy[-_]authorization"
    r"|cookie|set[-_]cookie)[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token)\s+)?+)"
    r"(?!\[redacted\])[^\s\"',;&]+",
    re.IGNORECASE,
)
_SECRET_NAME = r"[\w.-]*(?:key|token|password|passwd|secret|signature)[\w.-]*"  # noqa: S105 (a pattern)
_FIELD = re.compile(rf"(\b{_SECRET_NAME}=)(?!\[redacted\])[^&\s\"',;]+", re.IGNORECASE)
_JSON_FIELD = re.compile(
    rf"([\"']{_SECRET_NAME}[\"']\s*:\s*[\"'])(?!\[redacted\])[^\"']+", re.IGNORECASE
)


def redact(text: str) -> str:
    """`text` with every source key, API key, token and password in it replaced by a mask."""
    text = _KEY_SHAPE.sub(lambda m: f"{m.group(1)}…{MASK}", text)
    text = _INTAKE_PATH.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _HEADER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _FIELD.sub(lambda m: f"{m.group(1)}{MASK}", text)
    return _JSON_FIELD.sub(lambda m: f"{m.group(1)}{MASK}", text)


class RedactFilter(logging.Filter):
    """Redacts the message, its args and its traceback; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad format string: redact what there is
            message = f"{record.msg} {record.args}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
