"""The bounce mailbox: returned marketing mail read over IMAP, or received by Leadloop's own SMTP
listener (`leadloop mail bounce-listener`). Both hand each mail to `bounces.receive_report`,
which commits the bytes before anything reads them.

IMAP marks a message \\Seen only after its report is committed, and the SMTP listener answers
250 only then (451 when storing fails, so the sending server tries again): a crash costs a
repeat fetch or delivery, never a report, and the repeat is recognised by its bytes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from django.conf import settings
from django.db import connections

from leadloop.nurture.mail.models import ReportVia
from leadloop.nurture.mail.services import bounces

logger = logging.getLogger(__name__)


def imap_configured() -> bool:
    """Whether a bounce mailbox is set (LEADLOOP_BOUNCE_IMAP_HOST)."""
    return bool(settings.LEADLOOP_BOUNCE_IMAP.get("host"))


def poll_bounce_mailbox() -> int:
    """Store and read every unseen message of the bounce mailbox; how many were new. Nothing
    to do (0) when no mailbox is set.

    Each message is fetched with BODY.PEEK (which leaves it unseen), stored and read, and only
    then flagged \\Seen. A message that cannot be read is still stored (with its error) and
    flagged; one that cannot be stored stays unseen for the next poll, and the poll fails after
    trying the others, so the task retries.
    """
    from imapclient import IMAPClient
    from imapclient.imapclient import SEEN

    config: dict[str, Any] = settings.LEADLOOP_BOUNCE_IMAP
    host = str(config.get("host") or "")
    if not host:
        return 0
    use_ssl = bool(config.get("ssl", True))
    port = int(config.get("port") or (993 if use_ssl else 143))
    stored = 0
    failed: list[int] = []
    with IMAPClient(host, port=port, ssl=use_ssl, timeout=60) as client:
        client.login(config.get("username", ""), config.get("password", ""))
        client.select_folder(config.get("folder") or "INBOX")
        for uid in client.search(["UNSEEN"]):
            # One message at a time keeps memory bounded by the largest message.
            raw = client.fetch([uid], ["BODY.PEEK[]"]).get(uid, {}).get(b"BODY[]")
            if raw is None:
                continue
            try:
                report = bounces.receive_report(
                    bytes(raw),
                    via=ReportVia.IMAP,
                    headers={"Imap-Host": host, "Imap-Uid": str(uid)},
                )
            except Exception:
                logger.exception("bounce mailbox: could not store uid=%s", uid)
                failed.append(uid)
                continue
            client.add_flags([uid], [SEEN])
            stored += 1
            logger.info("bounce mailbox: stored uid=%s report=%d", uid, report.pk)
    if failed:
        raise RuntimeError(f"bounce mailbox: {len(failed)} message(s) could not be stored")
    return stored


# --- SMTP ----------------------------------------------------------------------------------------


class BounceMailHandler:
    """aiosmtpd handler: every accepted mail is stored (and read) before the 250."""

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", errors="surrogateescape")
        headers = {
            "Mail-From": str(envelope.mail_from or "")[:254],
            "Rcpt-To": ", ".join(envelope.rcpt_tos)[:1000],
            "Peer": str(session.peer[0]) if session.peer else "",
        }
        try:
            await _in_thread(bounces.receive_report, raw, via=ReportVia.SMTP, headers=headers)
        except Exception:
            logger.exception("bounce listener: could not store mail_from=%s", headers["Mail-From"])
            # A temporary failure makes the sending server try again later: nothing is lost.
            return "451 4.3.0 Could not store the message, try again later"
        return "250 2.0.0 Stored"


async def _in_thread(func: Any, *args: Any, **kwargs: Any) -> Any:
    """Run database work off the event loop, in a thread that closes its connections after."""

    def run() -> Any:
        try:
            return func(*args, **kwargs)
        finally:
            connections.close_all()

    return await asyncio.to_thread(run)


def bounce_smtp_controller(*, host: str = "127.0.0.1", port: int = 2526) -> Any:
    """An aiosmtpd Controller (not started) for returned mail; a mail over
    LEADLOOP_BOUNCE_MAX_BYTES is refused with 552."""
    from aiosmtpd.controller import Controller

    return Controller(
        BounceMailHandler(),
        hostname=host,
        port=port,
        data_size_limit=settings.LEADLOOP_BOUNCE_MAX_BYTES,
        decode_data=False,
    )
