"""Sending: each delivery is signed (Standard Webhooks), POSTed, logged, and tried again on the
Standard Webhooks schedule until the endpoint answers 2xx.

A try takes the row first (pending → sending), so two workers never send the same delivery at
once; a worker that dies mid-send leaves it `sending`, and the sweep takes it back after ten
minutes and sends it again with the same `webhook-id`, which is how the receiver recognises a
repeat. No redirect is followed and the host is checked for a private address on every try (a
name may resolve elsewhere since it was saved), and the connection goes to the address that
was checked.
"""

from __future__ import annotations

import datetime as dt
import http.client
import logging
import select
import socket
import ssl
import threading
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from standardwebhooks.webhooks import Webhook

from leadloop.accounts.models import Role, User
from leadloop.core.expressions import indexed
from leadloop.core.network import PrivateHostError, public_addresses
from leadloop.core.secrets import SecretsKeyError, decrypt
from leadloop.notifications.services import notify
from leadloop.webhooks.models import Attempt, Delivery, DeliveryState, Message, Subscription
from leadloop.webhooks.services.outbox import queue, queue_backlog

logger = logging.getLogger(__name__)

# Seconds to wait after try n before try n + 1: the Standard Webhooks schedule (5 s, 5 min,
# 30 min, 2 h, 5 h, 10 h, 10 h), eight tries over about 27 hours.
SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)
MAX_ATTEMPTS = len(SCHEDULE) + 1
TIMEOUT_SECONDS = 10.0
STALE_SENDING = dt.timedelta(minutes=10)
KEEP_RESPONSE = 1000
TELL_EVERY = dt.timedelta(hours=24)
USER_AGENT = "Leadloop-Webhooks/1"


def _connect_any(addresses: list[tuple[Any, ...]], timeout: float) -> socket.socket:
    """A socket connected to the first of `addresses` that answers (as create_connection does,
    but to addresses already checked, with no second lookup)."""
    error: OSError = OSError("no address to connect to")
    for family, kind, proto, _name, address in addresses:
        sock = socket.socket(family, kind, proto)
        sock.settimeout(timeout)
        if family in (socket.AF_INET, socket.AF_INET6):
            # Each write goes out at once (a request is written in more than one piece).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.connect(address)
        except OSError as exc:
            sock.close()
            error = exc
            continue
        return sock
    raise error


class _PinnedHTTP(http.client.HTTPConnection):
    """HTTP to the checked addresses; the Host header still names the host."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[tuple[Any, ...]],
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self) -> None:
        self.sock = _connect_any(self._addresses, self.timeout or TIMEOUT_SECONDS)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to the checked addresses; the certificate is verified for the host's name."""

    def __init__(
        self,
        host: str,
        port: int,
        addresses: list[tuple[Any, ...]],
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._tls = tls_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._addresses = addresses

    def connect(self) -> None:
        sock = _connect_any(self._addresses, self.timeout or TIMEOUT_SECONDS)
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)


_TLS: list[ssl.SSLContext] = []


def tls_context() -> ssl.SSLContext:
    """The system's trusted certificates, hostnames checked. Made once a process: loading the
    certificates took milliseconds of CPU a connection."""
    if not _TLS:
        _TLS.append(ssl.create_default_context())
    return _TLS[0]


class _Idle:
    """Connections kept open between requests to the same checked addresses (keep-alive): a
    busy endpoint (a buyer pinged for every lead) is not connected to, and shaken hands with
    over TLS, for every request. A connection idle for longer than `IDLE_SECONDS`, or that the
    server has closed or written to unasked, is not used again."""

    IDLE_SECONDS = 4.0
    PER_ENDPOINT = 32

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: dict[tuple[Any, ...], list[tuple[float, http.client.HTTPConnection]]] = {}

    def take(self, key: tuple[Any, ...]) -> http.client.HTTPConnection | None:
        now = time.monotonic()
        while True:
            with self._lock:
                kept = self._idle.get(key)
                if not kept:
                    return None
                since, connection = kept.pop()
            if now - since < self.IDLE_SECONDS and _quiet(connection):
                return connection
            connection.close()

    def give_back(self, key: tuple[Any, ...], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            kept = self._idle.setdefault(key, [])
            if len(kept) < self.PER_ENDPOINT:
                kept.append((time.monotonic(), connection))
                return
        connection.close()

    def clear(self) -> None:
        with self._lock:
            kept, self._idle = self._idle, {}
        for connections in kept.values():
            for _since, connection in connections:
                connection.close()


def _quiet(connection: http.client.HTTPConnection) -> bool:
    """Whether a kept connection is still open with nothing to read (a server that closed it,
    or wrote to it unasked, makes its socket readable)."""
    sock = connection.sock
    if sock is None:
        return False
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return False
    return not readable


IDLE = _Idle()


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: str
    error: str
    duration_ms: int


def sign(secrets: list[str], msg_id: str, at: dt.datetime, body: str) -> str:
    """The `webhook-signature` header: "v1," + base64 HMAC-SHA256 of "id.timestamp.body", one
    per secret, separated by spaces (the new secret first while an old one still signs)."""
    return " ".join(Webhook(s).sign(msg_id=msg_id, timestamp=at, data=body) for s in secrets)


def signing_secrets(subscription: Subscription, now: dt.datetime) -> list[str]:
    """The secret, and the previous one while it still signs after a renewal."""
    found = [decrypt(subscription.secret_encrypted)]
    previous = subscription.previous_secret_encrypted
    if previous and subscription.previous_until and subscription.previous_until > now:
        found.append(decrypt(previous))
    return found


def headers_for(secret: str | list[str], msg_id: str, at: dt.datetime, body: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": sign(
            [secret] if isinstance(secret, str) else secret, msg_id, at, body
        ),
    }


def _one_line(text: str, limit: int = 300) -> str:
    return " ".join(str(text).split())[:limit]


def post(
    url: str,
    body: str | bytes,
    headers: dict[str, str],
    *,
    timeout: float = TIMEOUT_SECONDS,
    keep: int = KEEP_RESPONSE,
) -> Answer:
    """POST once: the status and the start of the answer (`keep` bytes at most, however much
    the endpoint sends), or why the endpoint was not reached within `timeout` seconds a step.

    The name is resolved once, the addresses are checked, and the connection goes to one of
    exactly those (no second lookup a rebinding DNS server could answer differently). No
    redirect is followed: a 3xx is an answer like any other that is not 2xx."""
    started = time.monotonic()

    def answer(status: int | None, text: str = "", error: str = "") -> Answer:
        spent = int((time.monotonic() - started) * 1000)
        return Answer(status, text, _one_line(error) if error else "", spent)

    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return answer(None, error=_("The address is not http or https."))
    secure = parts.scheme == "https"
    try:
        port = parts.port or (443 if secure else 80)
        addresses = public_addresses(parts.hostname, port)
    except PrivateHostError as exc:
        return answer(None, error=str(exc))
    except (OSError, ValueError, UnicodeError) as exc:
        return answer(None, error=f"{type(exc).__name__}: {exc}")
    kind = _PinnedHTTPS if secure else _PinnedHTTP
    key = (kind, parts.hostname, port, tuple(a[4] for a in addresses), id(tls_context()))
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    data = body.encode() if isinstance(body, str) else body
    kept = IDLE.take(key)
    connection = kept or kind(parts.hostname, port, addresses, timeout)
    try:
        try:
            response = _exchange(connection, target, data, headers, timeout)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if kept is None:
                raise
            # The server closed the kept connection as the request went out (its idle time-out),
            # so it did not answer it: once more on a new connection. (A receiver that did read
            # it sees the same webhook-id / Idempotency-Key twice, which is what they are for.)
            connection.close()
            connection = kind(parts.hostname, port, addresses, timeout)
            response = _exchange(connection, target, data, headers, timeout)
        text = response.read(keep).decode("utf-8", "replace")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        connection.close()
        return answer(None, error=f"{type(exc).__name__}: {exc}")
    if response.isclosed() and not response.will_close:
        IDLE.give_back(key, connection)  # the answer was read to its end: the connection is free
    else:
        connection.close()
    return answer(response.status, text)


def _exchange(
    connection: http.client.HTTPConnection,
    target: str,
    data: bytes,
    headers: dict[str, str],
    timeout: float,
) -> http.client.HTTPResponse:
    connection.timeout = timeout
    if connection.sock is not None:
        connection.sock.settimeout(timeout)
    connection.request("POST", target, body=data, headers=headers)
    return connection.getresponse()


def send(delivery_id: int, *, at: dt.datetime | None = None) -> str:
    """Try one delivery if it is due; the state it ends in ("not due" when it was not)."""
    now = at or timezone.now()
    taken = Delivery.objects.filter(
        pk=delivery_id,
        state=DeliveryState.PENDING,
        next_attempt_at__lte=now,
        subscription__is_active=True,
    ).update(state=DeliveryState.SENDING, attempts=F("attempts") + 1, changed_at=now)
    if not taken:
        return "not due"
    delivery = Delivery.objects.select_related("subscription", "message").get(pk=delivery_id)
    subscription, message = delivery.subscription, delivery.message
    try:
        secrets = signing_secrets(subscription, now)
    except SecretsKeyError as exc:
        result = Answer(None, "", _one_line(exc.detail), 0)
    else:
        result = post(
            subscription.url, message.body, headers_for(secrets, message.msg_id, now, message.body)
        )
    return _settle(delivery, result, now)


def _settle(delivery: Delivery, result: Answer, now: dt.datetime) -> str:
    Attempt.objects.create(
        delivery=delivery,
        at=now,
        status_code=result.status,
        duration_ms=result.duration_ms,
        response=result.body,
        error=result.error,
    )
    done = timezone.now()
    if result.status is not None and 200 <= result.status < 300:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.DELIVERED,
            last_status=result.status,
            last_error="",
            delivered_at=done,
            next_attempt_at=None,
            changed_at=done,
        )
        return DeliveryState.DELIVERED
    error = result.error or _("The endpoint answered HTTP %(status)s.") % {"status": result.status}
    if delivery.attempts >= MAX_ATTEMPTS:
        Delivery.objects.filter(pk=delivery.pk).update(
            state=DeliveryState.FAILED,
            last_status=result.status,
            last_error=_one_line(error),
            next_attempt_at=None,
            changed_at=done,
        )
        logger.warning("webhook delivery gave up id=%d", delivery.pk)
        _tell_admins(delivery.subscription, now=done)
        return DeliveryState.FAILED
    wait = dt.timedelta(seconds=SCHEDULE[delivery.attempts - 1])
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.PENDING,
        last_status=result.status,
        last_error=_one_line(error),
        next_attempt_at=done + wait,
        changed_at=done,
    )
    queue([delivery.pk], run_after=done + wait)
    return DeliveryState.PENDING


def _tell_admins(subscription: Subscription, *, now: dt.datetime) -> None:
    """Tell the admins that deliveries to an endpoint gave up, at most once a day per endpoint."""
    told = (
        Subscription.objects.filter(pk=subscription.pk)
        .filter(Q(failure_told_at__isnull=True) | Q(failure_told_at__lt=now - TELL_EVERY))
        .update(failure_told_at=now)
    )
    if not told:
        return
    notify(
        User.objects.filter(role=Role.ADMIN, is_active=True),
        kind="webhook_failed",
        title=gettext_noop("Webhook deliveries to %(url)s gave up"),
        body=gettext_noop(
            "The endpoint did not accept a delivery after eight tries over a day. Fix it, then "
            "replay the failed deliveries from the webhook's page."
        ),
        params={"url": subscription.url[:200]},
        url=f"/webhooks/{subscription.pk}/",
    )


def _try_each(
    delivery_ids: list[int], *, at: dt.datetime | None, down: set[int], deadline: float
) -> tuple[int, bool]:
    """Try each delivery in turn: (how many were delivered, whether time ran out).

    After an endpoint could not be reached at all (refused, timed out) its other deliveries are
    skipped in this run: they stay due, and the next run tries one again, so a dead endpoint
    costs one time-out a run instead of one per delivery. `down` collects those endpoints.
    """
    owner = dict(Delivery.objects.filter(pk__in=delivery_ids).values_list("pk", "subscription_id"))
    sent = 0
    for delivery_id in delivery_ids:
        if time.monotonic() > deadline:
            return sent, True
        if owner.get(delivery_id) in down:
            continue
        state = send(delivery_id, at=at)
        if state == DeliveryState.DELIVERED:
            sent += 1
        elif (
            state != "not due"
            and Delivery.objects.filter(pk=delivery_id, last_status__isnull=True).exists()
        ):
            down.add(owner[delivery_id])
    return sent, False


def _sweep(
    *, at: dt.datetime | None, limit: int, budget_seconds: float, until_empty: bool
) -> tuple[int, bool]:
    """Send due deliveries, `limit` at a time (until none is due with `until_empty`): (how many
    were delivered, whether some were left because the time ran out)."""
    deadline = time.monotonic() + budget_seconds
    Delivery.objects.filter(
        indexed(Delivery, "webhook_delivery_due"),
        state=DeliveryState.SENDING,
        changed_at__lt=(at or timezone.now()) - STALE_SENDING,
    ).update(state=DeliveryState.PENDING, next_attempt_at=at or timezone.now())
    down: set[int] = set()
    sent = 0
    while True:
        now = at or timezone.now()
        due = list(
            Delivery.objects.filter(
                indexed(Delivery, "webhook_delivery_due"),
                state=DeliveryState.PENDING,
                next_attempt_at__lte=now,
                subscription__is_active=True,
            )
            .exclude(subscription_id__in=down)
            .order_by("next_attempt_at", "id")
            .values_list("pk", flat=True)[:limit]
        )
        got, out_of_time = _try_each(due, at=at, down=down, deadline=deadline)
        sent += got
        if out_of_time:
            return sent, True
        if not until_empty or len(due) < limit:
            return sent, False


def send_due(
    *, at: dt.datetime | None = None, limit: int = 200, budget_seconds: float = 45.0
) -> int:
    """One sweep: what is due (a lost task's work, retries whose wait has passed) and sends a
    dead worker left; stops after `budget_seconds` so a dead endpoint cannot hold the worker."""
    return _sweep(at=at, limit=limit, budget_seconds=budget_seconds, until_empty=False)[0]


def send_backlog(*, budget_seconds: float = 30.0) -> int:
    """The sending task: everything due, a few hundred at a time; past `budget_seconds` it queues
    itself again (unless a run already waits) and lets the worker take other tasks first."""
    sent, more = _sweep(at=None, limit=200, budget_seconds=budget_seconds, until_empty=True)
    if more:
        queue_backlog()
    return sent


def send_many(delivery_ids: list[int]) -> int:
    """A retry's task: try these deliveries if they are due; how many were delivered."""
    return _try_each(delivery_ids, at=None, down=set(), deadline=time.monotonic() + 120.0)[0]


def prune_log(*, at: dt.datetime | None = None, chunk: int = 1000) -> int:
    """Delete messages older than LEADLOOP_WEBHOOK_LOG_DAYS whose deliveries are all done
    (delivered or given up), with their deliveries and tries; returns how many messages went.
    A delivery still waiting keeps its message, however old."""
    from django.conf import settings

    cutoff = (at or timezone.now()) - dt.timedelta(days=settings.LEADLOOP_WEBHOOK_LOG_DAYS)
    waiting = Delivery.objects.filter(
        state__in=[DeliveryState.PENDING, DeliveryState.SENDING]
    ).values("message_id")
    total = 0
    while True:
        ids = list(
            Message.objects.filter(created_at__lt=cutoff)
            .exclude(pk__in=waiting)
            .values_list("pk", flat=True)[:chunk]
        )
        if not ids:
            return total
        Message.objects.filter(pk__in=ids).delete()
        total += len(ids)
