"""The daily CSV batch: each buyer with an SFTP server gets the leads it bought on a day as one
CSV file (`leads-YYYY-MM-DD.csv`, its field mapping as the columns), once.

The hourly job sends yesterday's file to every such buyer that has not had it; a failure is kept
on the batch and tried again the next hour. The server's host key is learnt on first contact
(trust on first use, as the SFTP drop folders do) and a different key afterwards is refused.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.defaults import get_defaults
from leadloop.accounts.permissions import Permission, require
from leadloop.core.secrets import SecretsKeyError, decrypt, encrypt
from leadloop.distribution.selling import formats
from leadloop.distribution.selling.models import Buyer, BuyerBatch, Sale, SaleState
from leadloop.errors import NotFound, ValidationFailed

SFTP_KEYS = ("host", "port", "username", "directory", "host_key")


def configure_sftp(
    buyer_id: int, settings: dict[str, Any], *, password: str | None, by: Actor
) -> Buyer:
    """Set (or, with no host, switch off) the buyer's daily CSV to SFTP. The password is stored
    encrypted and never shown again; None keeps the one stored."""
    require(by, Permission.MANAGE_BUYERS)
    buyer = Buyer.objects.filter(pk=buyer_id).first()
    if buyer is None:
        raise NotFound(_("No such buyer."))
    host = str(settings.get("host") or "").strip()
    cleaned: dict[str, Any] = {}
    if host:
        try:
            port = int(settings.get("port") or 22)
        except (TypeError, ValueError):
            port = 0
        if not 0 < port < 65536:
            raise ValidationFailed(_("Check the SFTP settings."), errors={"port": [_("A port.")]})
        cleaned = {
            "host": host[:200],
            "port": port,
            "username": str(settings.get("username") or "").strip()[:100],
            "directory": str(settings.get("directory") or "/").strip()[:300] or "/",
            "host_key": str(settings.get("host_key") or "").strip()[:2000],
        }
        if not cleaned["username"]:
            raise ValidationFailed(
                _("Check the SFTP settings."), errors={"username": [_("A user name.")]}
            )
    fields = ["sftp"]
    buyer.sftp = cleaned
    if password is not None:
        buyer.sftp_password_encrypted = encrypt(password) if password else ""
        fields.append("sftp_password_encrypted")
    buyer.save(update_fields=fields)
    return buyer


def _zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(get_defaults().time_zone)


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=_zone())
    return start, start + dt.timedelta(days=1)


def batch_csv(buyer: Buyer, day: dt.date) -> tuple[str, int]:
    """The day's CSV for the buyer: one row per lead it bought that day, in its columns."""
    start, end = _bounds(day)
    sales = (
        Sale.objects.filter(buyer=buyer, state=SaleState.SOLD, sold_at__gte=start, sold_at__lt=end)
        .select_related("lead", "lead__source", "lead__campaign")
        .order_by("sold_at", "id")
    )
    rows = [formats.record(sale.lead, buyer.field_map) for sale in sales]
    if not rows:
        header = [theirs for theirs, _ours in (buyer.field_map or formats.DEFAULT_MAP)]
        return ",".join(header) + "\r\n", 0
    return formats.as_csv(rows), len(rows)


def send_batch(buyer_id: int, day: dt.date, *, by: Actor, again: bool = False) -> BuyerBatch:
    """Send the buyer's CSV of `day` to its SFTP server (once, unless `again`)."""
    from leadloop.intake.channels.ftp import sftp
    from leadloop.intake.channels.ftp.client import FtpError, FtpSettings

    require(by, Permission.MANAGE_BUYERS)
    buyer = Buyer.objects.filter(pk=buyer_id).first()
    if buyer is None or not (buyer.sftp or {}).get("host"):
        raise NotFound(_("This buyer has no SFTP server."))
    name = f"leads-{day.isoformat()}.csv"
    now = timezone.now()
    with transaction.atomic():
        batch, _created = BuyerBatch.objects.get_or_create(
            buyer=buyer, day=day, defaults={"file_name": name, "tried_at": now}
        )
    if batch.sent_at is not None and not again:
        return batch
    content, rows = batch_csv(buyer, day)
    error = ""
    try:
        password = decrypt(buyer.sftp_password_encrypted) if buyer.sftp_password_encrypted else ""
        settings = FtpSettings.from_mapping({**buyer.sftp, "sftp": True, "password": password})
        if not settings.host_key:
            key = sftp.server_host_key(settings)
            Buyer.objects.filter(pk=buyer.pk).update(sftp={**buyer.sftp, "host_key": key})
            settings = FtpSettings.from_mapping(
                {**buyer.sftp, "sftp": True, "password": password, "host_key": key}
            )
        with sftp.connected(settings) as session:
            session.store(name, content.encode("utf-8"))
    except (FtpError, SecretsKeyError) as exc:
        error = " ".join(str(getattr(exc, "detail", exc)).split())[:300]
    BuyerBatch.objects.filter(pk=batch.pk).update(
        rows=rows,
        tried_at=now,
        sent_at=None if error else timezone.now(),
        error=error,
        file_name=name,
    )
    batch.refresh_from_db()
    return batch


def send_due(*, by: Actor, at: dt.datetime | None = None) -> int:
    """Yesterday's file to every buyer with an SFTP server that has not had it; how many went."""
    yesterday = (at or timezone.now()).astimezone(_zone()).date() - dt.timedelta(days=1)
    done = set(
        BuyerBatch.objects.filter(day=yesterday, sent_at__isnull=False).values_list(
            "buyer_id", flat=True
        )
    )
    sent = 0
    for buyer in Buyer.objects.filter(is_active=True).exclude(sftp={}):
        if buyer.pk in done or not (buyer.sftp or {}).get("host"):
            continue
        if send_batch(buyer.pk, yesterday, by=by).sent_at is not None:
            sent += 1
    return sent
