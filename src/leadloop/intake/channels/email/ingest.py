"""Mail into the intake: the SMTP listener's handler, IMAP polling and mail files.

Every way in ends in `receive_mail`, which stores the raw message with `services.receive`
before anything reads it. The SMTP handler answers 250 only after that commit, and IMAP marks a
message seen only after it, so a crash costs a repeat fetch, never a lead. A message stored
twice for one source (an MTA's retry, an IMAP re-fetch) is recognised by its bytes and returns
the first submission.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import connections
from django.utils.translation import gettext as _

from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.intake import services
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.intake.channels.email.parser import EMAIL_CHANNEL, MAX_MESSAGE_BYTES, iter_mbox
from leadloop.intake.models import RawSubmission
from leadloop.leads.models import ChannelKind, Source

logger = logging.getLogger(__name__)

MAIL_CONTENT_TYPE = "message/rfc822"


def source_for_recipient(address: str, *, domain: str = "") -> Source | None:
    """The active source a recipient address names, or None.

    The local part is the source's id ("17@leads.example") or the `email_address` in its
    field mapping (just the local part, or the whole address). With `domain` set, only
    addresses in that domain count.
    """
    address = address.strip().strip("<>").strip()
    local, _at, address_domain = address.rpartition("@")
    if not local:
        local, address_domain = address_domain, ""
    if domain and address_domain.lower() != domain.lower():
        return None
    # Only e-mail sources take mail: an HTTP source is reached with its key, never by mail.
    active = Source.objects.filter(is_active=True, kind=ChannelKind.EMAIL)
    if local.isdigit():
        return active.filter(pk=int(local)).first()
    for candidate in (address, local):
        source = active.filter(field_mapping__email_address__iexact=candidate).first()
        if source is not None:
            return source
    return None


def receive_mail(
    *,
    source: Source,
    raw: bytes,
    via: str,
    headers: dict[str, str] | None = None,
    process_later: bool = True,
) -> RawSubmission:
    """Store one raw mail for `source` (committed before this returns); see `services.receive`."""
    return services.receive(
        source=source,
        channel=EMAIL_CHANNEL,
        body=raw,
        content_type=MAIL_CONTENT_TYPE,
        headers=headers or {},
        meta={"via": via},
        # The bytes are the identity of a mail: a retried delivery or re-fetch is the same one.
        idempotency_key=f"mail-sha256:{hashlib.sha256(raw).hexdigest()}",
        process_later=process_later,
    )


def import_mail_file(path: str, *, source: Source) -> Iterator[RawSubmission]:
    """Store and process each message of an .eml or mbox file, yielding its submission.

    A file is an mbox when its name ends in .mbox or it starts with an mbox "From " line;
    anything else is one message. Messages are read one at a time.
    """
    with open(path, "rb") as handle:
        is_mbox = path.lower().endswith(".mbox") or handle.read(5) == b"From "
    if is_mbox:
        messages: Iterable[bytes] = iter_mbox(path)
    else:
        if os.path.getsize(path) > MAX_MESSAGE_BYTES:
            # Stored anyway (nothing is lost); the parser quarantines it with the reason.
            logger.warning("mail file over the size limit path=%s", path)
        with open(path, "rb") as handle:
            messages = [handle.read()]
    for raw in messages:
        submission = receive_mail(
            source=source,
            raw=raw,
            via="file",
            headers={"File": os.path.basename(path)},
            process_later=False,
        )
        yield services.process_submission(submission.pk)


# --- SMTP ----------------------------------------------------------------------------------------


class LeadMailHandler:
    """aiosmtpd handler: refuses unknown recipients, stores each accepted mail, then answers 250.

    With `inline` the mail is also processed in this process right after it is stored (for a
    set-up without a task worker); otherwise a task processes it.
    """

    def __init__(self, *, domain: str = "", inline: bool = False) -> None:
        self.domain = domain
        self.inline = inline

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        source = await _in_thread(source_for_recipient, address, domain=self.domain)
        if source is None:
            return "550 5.1.1 No lead source at this address"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        peer = session.peer[0] if session.peer else ""
        try:
            await _in_thread(self._store, raw, envelope.mail_from or "", envelope.rcpt_tos, peer)
        except Exception:
            logger.exception("smtp store failed mail_from=%s", envelope.mail_from)
            # A temporary failure makes the sending server try again later: nothing is lost.
            return "451 4.3.0 Could not store the message, try again later"
        return "250 2.0.0 Stored"

    def _store(self, raw: bytes, mail_from: str, recipients: Iterable[str], peer: str) -> None:
        stored: set[int] = set()
        for recipient in recipients:
            source = source_for_recipient(recipient, domain=self.domain)
            if source is None or source.pk in stored:
                continue
            stored.add(source.pk)
            submission = receive_mail(
                source=source,
                raw=raw,
                via="smtp",
                headers={"Mail-From": mail_from, "Rcpt-To": recipient, "Peer": peer},
                process_later=not self.inline,
            )
            logger.info("smtp mail stored submission=%s source=%s", submission.pk, source.pk)
            if self.inline:
                services.process_submission(submission.pk)


async def _in_thread(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run database work off the event loop, in a thread that closes its connections after."""

    def run() -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(run)


def smtp_controller(
    *, host: str = "127.0.0.1", port: int = 2525, domain: str = "", inline: bool = False
) -> Any:
    """An aiosmtpd Controller (not started) that feeds the intake; mails over 25 MB get 552."""
    from aiosmtpd.controller import Controller

    return Controller(
        LeadMailHandler(domain=domain, inline=inline),
        hostname=host,
        port=port,
        data_size_limit=MAX_MESSAGE_BYTES,
        decode_data=False,
    )


# --- IMAP ----------------------------------------------------------------------------------------


class ImapConfigError(ValueError):
    """A source's IMAP settings are missing or incomplete."""


def poll_imap_source(source: Source) -> int:
    """Store every unseen message of the source's mailbox; returns how many were stored.

    Each message is fetched with BODY.PEEK (which leaves it unseen), stored, and only then
    flagged \\Seen: a crash in between fetches it again next time, and the repeat is
    recognised by its bytes.
    """
    from imapclient import IMAPClient
    from imapclient.imapclient import SEEN

    config = channel_secrets.connection_settings(source, "imap")  # decrypted at use
    missing = [key for key in ("host", "username", "password") if not config.get(key)]
    if missing:
        raise ImapConfigError(
            _("The IMAP settings of %(source)s lack: %(keys)s.")
            % {"source": source.name, "keys": ", ".join(missing)}
        )
    use_ssl = bool(config.get("ssl", True))
    port = int(config.get("port") or (993 if use_ssl else 143))
    try:
        refuse_private_host(config["host"])
    except PrivateHostError as exc:
        raise ImapConfigError(str(exc)) from exc
    stored = 0
    with IMAPClient(config["host"], port=port, ssl=use_ssl, timeout=60) as client:
        client.login(config["username"], config["password"])
        client.select_folder(config.get("folder") or "INBOX")
        for uid in client.search(["UNSEEN"]):
            # One message at a time keeps memory bounded by the largest message.
            fetched = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {})
            raw = fetched.get(b"BODY[]")
            if raw is None:
                continue
            receive_mail(
                source=source,
                raw=bytes(raw),
                via="imap",
                headers={"Imap-Host": config["host"], "Imap-Uid": str(uid)},
            )
            client.add_flags([uid], [SEEN])
            stored += 1
    logger.info("imap poll source=%s stored=%d", source.pk, stored)
    return stored


def poll_imap_sources() -> int:
    """Poll the mailbox of every active source with IMAP settings; returns messages stored.

    A failing mailbox does not stop the others; the failure is raised after all were tried, so
    the task retries (stored messages are recognised and not stored twice).
    """
    total = 0
    failures: list[str] = []
    for source in Source.objects.filter(is_active=True, field_mapping__has_key="imap"):
        try:
            total += poll_imap_source(source)
        except Exception:
            logger.exception("imap poll failed source=%s", source.pk)
            failures.append(source.name)
    if failures:
        raise RuntimeError(f"IMAP polling failed for: {', '.join(failures)}")
    return total
