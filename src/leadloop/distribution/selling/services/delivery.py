"""Sending a lead to a buyer and reading its answer: HTTP POST (JSON, XML, name-value pairs)
signed with the buyer's secret, or an e-mail with the lead as HTML, CSV and vCard.

Every request carries the sale's key (`Idempotency-Key`, and as `webhook-id` in the signature),
so a buyer recognises a lead sent again after a crash. HTTP goes through the webhooks sender:
the address is checked against private networks on every try, no redirect is followed, the
answer is read up to `KEEP` bytes however much is sent, and each step times out. An answer
that allows it (408, 429, 5xx, no answer) is tried again with back-off, `buyer.retries` times.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.core import prepared
from leadloop.core.secrets import SecretsKeyError, decrypt
from leadloop.distribution.selling import formats
from leadloop.distribution.selling.models import Buyer, DeliveryLog
from leadloop.webhooks.services.sending import Answer, post, sign

logger = logging.getLogger(__name__)

KEEP = 64 * 1024
KEEP_LOGGED = 2000
USER_AGENT = "Leadloop-Selling/1"
BACKOFF_SECONDS = 0.2


@dataclass
class Result:
    outcome: str  # formats.ACCEPTED, REJECTED, DUPLICATE, RETRY
    reason: str
    status: int | None
    duration_ms: int
    their_ref: str = ""
    # Each try, not yet saved: the caller writes them with the outcome, in one transaction.
    logs: list[DeliveryLog] = field(default_factory=list)

    def save_logs(self) -> None:
        for log in self.logs:
            prepared.insert(log)
        self.logs = []


def _secret(buyer: Buyer) -> str:
    try:
        return _decrypted(buyer.secret_encrypted) if buyer.secret_encrypted else ""
    except SecretsKeyError:
        return ""


@functools.lru_cache(maxsize=256)
def _decrypted(token: str) -> str:
    """A buyer's secret, decrypted once a process (every ping and post is signed with it; a new
    secret, or the same one encrypted with a new key, is a new token)."""
    return decrypt(token)


def signed_headers(buyer: Buyer, key: str, data: bytes, content_type: str) -> dict[str, str]:
    """Content type, the idempotency key and a Standard Webhooks signature over the body."""
    now = timezone.now()
    headers = {
        "Content-Type": content_type,
        "User-Agent": USER_AGENT,
        "Idempotency-Key": key,
        "webhook-id": key,
        "webhook-timestamp": str(int(now.timestamp())),
    }
    secret = _secret(buyer)
    if secret:
        headers["webhook-signature"] = sign([secret], key, now, data.decode("utf-8", "replace"))
    return headers


def _logged_request(url: str, headers: dict[str, str], data: bytes) -> str:
    shown = {
        name: ("v1,•••" if name == "webhook-signature" else value)
        for name, value in headers.items()
    }
    head = "\n".join(f"{name}: {value}" for name, value in shown.items())
    return f"POST {url}\n{head}\n\n{data.decode('utf-8', 'replace')}"[: KEEP_LOGGED * 2]


def _their_ref(text: str) -> str:
    found = formats.json_path(formats._json(text), "id") if text[:1] in "{[" else None
    return str(found)[:120] if isinstance(found, str | int) else ""


def post_lead(
    buyer: Buyer, lead: Any, *, key: str, sale_id: int | None, test: bool = False
) -> Result:
    """Deliver `lead` to `buyer` once (with its retries); each try is in `logs`, to be saved by
    the caller with the outcome."""
    if buyer.method == "email":
        return _mail(buyer, lead, key=key, sale_id=sale_id, test=test)
    data = formats.record(lead, buyer.field_map)
    if test:
        data = {**data, "test": "true"}
    payload, content_type = formats.body(data, buyer.method, key=key)
    tries = 1 + buyer.retries
    logs: list[DeliveryLog] = []
    for attempt in range(1, tries + 1):
        headers = signed_headers(buyer, key, payload, content_type)
        answer = post(buyer.url, payload, headers, timeout=buyer.timeout_ms / 1000, keep=KEEP)
        verdict = formats.read_answer(buyer.answer_rules, answer.status, answer.body)
        logs.append(
            _log(buyer, sale_id, _logged_request(buyer.url, headers, payload), answer, verdict)
        )
        refused = answer.status is None and answer.error == _private_refusal(buyer.url)
        if verdict.outcome != formats.RETRY or attempt == tries or refused:
            return Result(
                verdict.outcome,
                verdict.reason or answer.error,
                answer.status,
                answer.duration_ms,
                _their_ref(answer.body) if verdict.outcome == formats.ACCEPTED else "",
                logs,
            )
        time.sleep(BACKOFF_SECONDS * (2 ** (attempt - 1)))
    raise AssertionError("unreachable")  # pragma: no cover


def _private_refusal(url: str) -> str:
    """The guard's message for `url` when its host is private (and refused), else "-"."""
    from urllib.parse import urlsplit

    from leadloop.core.network import PrivateHostError, refuse_private_host

    try:
        refuse_private_host(urlsplit(url).hostname or "")
    except PrivateHostError as exc:
        return " ".join(str(exc).split())[:300]
    return "-"


def _log(
    buyer: Buyer,
    sale_id: int | None,
    request: str,
    answer: Answer,
    verdict: formats.Verdict,
) -> DeliveryLog:
    return DeliveryLog(
        sale_id=sale_id,
        buyer=buyer,
        at=timezone.now(),
        request=request,
        status_code=answer.status,
        response=answer.body[:KEEP_LOGGED],
        outcome=verdict.outcome,
        error=(answer.error or verdict.reason)[:300],
        duration_ms=answer.duration_ms,
    )


def _mail(buyer: Buyer, lead: Any, *, key: str, sale_id: int | None, test: bool) -> Result:
    from leadloop.notifications.services import mail_configured, mail_connection

    started = time.monotonic()
    if not mail_configured() and settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        answer = Answer(None, "", _("Outgoing mail is not set up (LEADLOOP_SMTP_HOST)."), 0)
        log = _log(buyer, sale_id, f"MAIL TO {buyer.email_to}", answer, formats.Verdict("retry"))
        return Result(formats.RETRY, answer.error, None, 0, logs=[log])
    data = formats.record(lead, buyer.field_map)
    subject = (_("Test lead") if test else _("New lead")) + f": {lead.first_name} {lead.last_name}"
    email = EmailMultiAlternatives(
        subject=subject.strip()[:200],
        body="\n".join(f"{name}: {value}" for name, value in data.items()),
        from_email=settings.LEADLOOP_MAIL_FROM,
        to=[buyer.email_to],
        headers={"Idempotency-Key": key, "X-Leadloop-Sale": key},
        connection=mail_connection() if mail_configured() else None,
    )
    email.attach_alternative(
        render_to_string("selling/lead_mail.html", {"data": data, "test": test}), "text/html"
    )
    email.attach("lead.csv", formats.as_csv([data]), "text/csv")
    email.attach("lead.vcf", formats.as_vcard(lead), "text/vcard")
    request = f"MAIL TO {buyer.email_to}\nSubject: {email.subject}\n\n{json.dumps(data)}"
    try:
        email.send()
    except Exception as exc:
        spent = int((time.monotonic() - started) * 1000)
        answer = Answer(None, "", f"{type(exc).__name__}: {exc}"[:300], spent)
        log = _log(buyer, sale_id, request, answer, formats.Verdict(formats.RETRY))
        return Result(formats.RETRY, answer.error, None, spent, logs=[log])
    spent = int((time.monotonic() - started) * 1000)
    answer = Answer(250, "", "", spent)
    log = _log(buyer, sale_id, request, answer, formats.Verdict(formats.ACCEPTED))
    return Result(formats.ACCEPTED, "", 250, spent, logs=[log])


def ping(buyer: Buyer, lead_data: dict[str, str], *, key: str, timeout: float) -> Answer:
    """Ask a bidding buyer for its price (no contact data): pure HTTP, no database, so it can
    run in a thread beside the other buyers' pings."""
    payload = json.dumps(lead_data, ensure_ascii=False).encode()
    headers = signed_headers(buyer, key, payload, "application/json")
    return post(buyer.ping_url, payload, headers, timeout=timeout, keep=KEEP)


def prune_log(*, days: int = 90, at: dt.datetime | None = None) -> int:
    cutoff = (at or timezone.now()) - dt.timedelta(days=days)
    deleted, _kinds = DeliveryLog.objects.filter(at__lt=cutoff).delete()
    return deleted
