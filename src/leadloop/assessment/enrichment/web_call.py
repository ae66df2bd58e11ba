"""HTTP providers: one call to a provider, guarded (time-out, size cap, no private hosts, no
redirects), and its answers cached per request."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping
from typing import Any

from django.utils.translation import gettext as _

from leadloop.assessment.enrichment.web_config import _is_source, provider_headers
from leadloop.assessment.models import EnrichmentCacheEntry, EnrichmentProvider
from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.core.secrets import SecretsKeyError
from leadloop.leads.models import Lead

MAX_RESPONSE_BYTES = 256 * 1024
MAX_DEPTH = 32
USER_AGENT = "Leadloop enrichment"


class EnrichmentFailure(Exception):
    """A provider call that produced nothing; `retryable` for time-outs and 5xx answers."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A provider must answer itself: a redirect could lead to a private address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        raise EnrichmentFailure(_("The provider redirected to %(url)s.") % {"url": newurl[:200]})


def _lead_value(lead: Lead, name: str) -> str:
    if name == "email_domain":
        return (lead.email or "").rpartition("@")[2].lower()
    if name.startswith("extra."):
        value = (lead.extra or {}).get(name[6:])
        return "" if value is None or isinstance(value, (dict, list)) else str(value)
    return str(getattr(lead, name, "") or "")


def build_request(provider: EnrichmentProvider, lead: Lead) -> dict[str, str]:
    """The parameters sent for `lead`: mapped lead fields that have a value."""
    params = {}
    for param, name in (provider.request_fields or {}).items():
        if isinstance(param, str) and _is_source(name):
            value = _lead_value(lead, name)
            if value:
                params[param] = value
    return params


def request_hash(provider: EnrichmentProvider, params: Mapping[str, str]) -> str:
    body = json.dumps(
        {"p": provider.pk, "m": provider.method, "u": provider.url, "q": params},
        sort_keys=True,
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def call_provider(provider: EnrichmentProvider, params: Mapping[str, str]) -> tuple[int, Any]:
    """Call the provider once: (status, parsed JSON). EnrichmentFailure on anything else.

    The host is checked on every call (a name may resolve elsewhere since it was saved), no
    redirect is followed, the whole exchange must finish within the time-out, and the answer is
    read up to MAX_RESPONSE_BYTES. A 404 is an answer ("nothing known"), with None as body.
    """
    parts = urllib.parse.urlsplit(provider.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise EnrichmentFailure(_("The provider's address is not http or https."))
    try:
        refuse_private_host(parts.hostname)
    except PrivateHostError as exc:
        raise EnrichmentFailure(str(exc)) from exc
    headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
    try:
        headers.update(provider_headers(provider))  # decrypted for this call only
    except SecretsKeyError as exc:
        raise EnrichmentFailure(exc.detail) from exc
    data = None
    url = provider.url
    if provider.method == "POST":
        data = json.dumps(dict(params), ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    elif params:
        query = urllib.parse.urlencode(dict(params))
        url = urllib.parse.urlunsplit(
            parts._replace(query=f"{parts.query}&{query}" if parts.query else query)
        )
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        url, data=data, headers=headers, method=provider.method
    )
    timeout = max(0.1, float(provider.timeout_seconds))
    deadline = time.monotonic() + timeout
    opener = urllib.request.build_opener(_NoRedirects)
    try:
        with opener.open(request, timeout=timeout) as response:
            status = response.status
            body = _read_capped(response, deadline)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return 404, None
        raise EnrichmentFailure(
            _("The provider answered HTTP %(status)s.") % {"status": exc.code},
            retryable=exc.code >= 500 or exc.code == 429,
        ) from exc
    except TimeoutError as exc:
        raise _timed_out(timeout) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise _timed_out(timeout) from exc
        raise EnrichmentFailure(
            _("The provider could not be reached: %(reason)s") % {"reason": str(exc.reason)[:200]},
            retryable=True,
        ) from exc
    except (OSError, ValueError) as exc:
        raise EnrichmentFailure(
            _("The provider could not be reached: %(reason)s") % {"reason": str(exc)[:200]},
            retryable=True,
        ) from exc
    try:
        answer = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise EnrichmentFailure(_("The provider's answer is not JSON.")) from exc
    if _depth(answer) > MAX_DEPTH:
        raise EnrichmentFailure(_("The provider's answer is nested too deeply."))
    return status, answer


def _timed_out(timeout: float) -> EnrichmentFailure:
    return EnrichmentFailure(
        _("The provider did not answer within %(seconds)s s.") % {"seconds": f"{timeout:g}"},
        retryable=True,
    )


def _read_capped(response: Any, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length")
    if declared and declared.isdigit() and int(declared) > MAX_RESPONSE_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read(64 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_RESPONSE_BYTES:
            raise _too_large()
        chunks.append(chunk)


def _too_large() -> EnrichmentFailure:
    return EnrichmentFailure(
        _("The provider's answer is larger than %(kb)d KB.") % {"kb": MAX_RESPONSE_BYTES // 1024}
    )


def fetch(
    provider: EnrichmentProvider, params: Mapping[str, str], *, now: dt.datetime
) -> tuple[Any, bool]:
    """The provider's answer to `params`: from the cache while it is fresh, else by calling it
    (and caching the answer). Returns (answer, from_cache)."""
    key = request_hash(provider, params)
    if provider.cache_hours:
        entry = EnrichmentCacheEntry.objects.filter(provider=provider, request_hash=key).first()
        if entry is not None and entry.fetched_at >= now - dt.timedelta(hours=provider.cache_hours):
            return entry.response, True
    status, answer = call_provider(provider, params)
    if provider.cache_hours:
        EnrichmentCacheEntry.objects.update_or_create(
            provider=provider,
            request_hash=key,
            # JSON null would be SQL NULL here; {} answers the same for every path.
            defaults={
                "status_code": status,
                "response": answer if answer is not None else {},
                "fetched_at": now,
            },
        )
    return answer, False
