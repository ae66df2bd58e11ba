"""FTP drop-folder sources: take in each new file as a batch, then file it away on the server.

A source of kind "ftp" keeps its connection in `field_mapping["ftp"]` (see `channels.ftp`) and
its password in an encrypted `ChannelSecret` (`intake.channels.secrets`). Each
poll downloads every complete file to LEADLOOP_VAR_DIR/ftp/<source id>/, stores it raw as one
submission (channel "ftp", idempotency key "ftp:<sha256 of the file>"), and imports its rows in
bulk with `intake.imports.bulk.import_file`, as `leadloop import` would. Only after the file is
stored is it moved on the server: to processed/, or to failed/ when it could not be read (the
submission is quarantined with the reason). A crash anywhere in between is harmless: the next
poll finds the same bytes under the same key and the same import batch by the file's hash, so it
finishes the work without taking anything in twice.
"""

from __future__ import annotations

import logging
import mimetypes
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM
from leadloop.intake import services
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.intake.channels.ftp import client as ftp
from leadloop.intake.channels.ftp.client import FTP_CHANNEL, FileTooLarge, FtpError, FtpSettings
from leadloop.intake.channels.polling import poll_every_source
from leadloop.intake.imports.bulk import import_file
from leadloop.intake.imports.reader import ImportFileError
from leadloop.intake.models import Disposition, RawSubmission, SubmissionState
from leadloop.leads.models import ChannelKind, Source

logger = logging.getLogger(__name__)

_FAILED_STATES = (SubmissionState.QUARANTINED, SubmissionState.REJECTED)


@dataclass
class FileOutcome:
    """What happened to one remote file."""

    name: str
    size: int
    submission_id: int | None = None
    state: str = ""
    repeat: bool = False
    batch_id: int | None = None
    rows: dict[str, int] = field(default_factory=dict)
    rejected_report: str = ""
    moved_to: str = ""
    error: str = ""


@dataclass
class FtpPoll:
    """What one poll of one source did."""

    source: str
    files: list[FileOutcome] = field(default_factory=list)
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": [asdict(f) for f in self.files],
            "error": self.error,
        }


def poll_ftp(source: Source, *, wait: Callable[[float], None] = time.sleep) -> FtpPoll:
    """Take in every new file of the source's drop folder; safe to run twice.

    `wait` sleeps between the two listings that tell a finished upload from one in progress.
    A file that cannot be fetched for network reasons stays where it is for the next poll.
    """
    # The password is decrypted here, at use, and lives only in this call's settings object.
    config = channel_secrets.connection_settings(source, "ftp")
    conn = FtpSettings.from_mapping(config)
    settle = float(config.get("settle_seconds", 3))
    result = FtpPoll(source=source.name)
    if conn.sftp and not conn.host_key:
        conn = remember_host_key(source, conn)
    local_dir = Path(settings.VAR_DIR) / "ftp" / str(source.pk)
    poll_id = uuid.uuid4().hex
    for remote in ftp.list_new_files(conn, settle_seconds=settle, wait=wait):
        outcome = FileOutcome(name=remote.name, size=remote.size)
        result.files.append(outcome)
        try:
            _take_in(source, conn, remote.name, local_dir / remote.name, outcome, poll_id)
        except FileTooLarge as exc:
            outcome.error = exc.detail
            outcome.moved_to = _move(conn, remote.name, ftp.FAILED, outcome)
        except FtpError as exc:
            outcome.error = exc.detail
        logger.info(
            "ftp file source=%s name=%s state=%s moved_to=%s error=%s",
            source.pk,
            remote.name,
            outcome.state,
            outcome.moved_to,
            outcome.error,
        )
    return result


def remember_host_key(source: Source, conn: FtpSettings) -> FtpSettings:
    """Trust an SFTP server's host key on first contact and keep it with the source's settings.

    From then on a server showing another key is refused before the password is sent. Clearing
    the key in the channel settings makes the next poll learn it again.
    """
    key = ftp.server_host_key(conn)
    with transaction.atomic():
        locked = Source.objects.select_for_update().get(pk=source.pk)
        mapping = dict(locked.field_mapping or {})
        stored = dict(mapping.get("ftp") or {})
        if not stored.get("host_key"):
            stored["host_key"] = key
            mapping["ftp"] = stored
            locked.field_mapping = mapping
            locked.save(update_fields=["field_mapping"])
        key = stored["host_key"]
    source.field_mapping = mapping
    logger.warning("sftp host key trusted on first use source=%s key=%s", source.pk, key)
    return replace(conn, host_key=key)


def poll_all_ftp() -> list[FtpPoll]:
    """Poll every active FTP source; one unreachable server does not stop the others."""
    return poll_every_source(
        ChannelKind.FTP, poll_ftp, lambda source, reason: FtpPoll(source.name, error=reason)
    )


def _take_in(
    source: Source,
    conn: FtpSettings,
    name: str,
    local: Path,
    outcome: FileOutcome,
    poll_id: str,
) -> None:
    fetched = ftp.download(conn, name, local)
    try:
        submission = services.receive(
            source=source,
            channel=FTP_CHANNEL,
            body=fetched.path.read_bytes(),
            content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
            meta={"filename": name, "size": fetched.size, "ftp_host": conn.host, "poll": poll_id},
            idempotency_key=f"ftp:{fetched.sha256}",
        )
        outcome.submission_id = submission.pk
        outcome.repeat = submission.meta.get("poll") != poll_id
        if submission.state == SubmissionState.RECEIVED:
            # Settled at once, so the orphan sweep never runs a file through the per-record
            # pipeline while (or after) the bulk import takes it in.
            submission = _settle(submission.pk, state=SubmissionState.PROCESSED)
        if submission.state not in _FAILED_STATES:
            submission = _import(source, submission, fetched.path, name, outcome)
    finally:
        fetched.path.unlink(missing_ok=True)  # the raw bytes now live in the submission
    outcome.state = submission.state
    folder = ftp.FAILED if submission.state in _FAILED_STATES else ftp.PROCESSED
    outcome.moved_to = _move(conn, name, folder, outcome)


def _import(
    source: Source, submission: RawSubmission, path: Path, name: str, outcome: FileOutcome
) -> RawSubmission:
    """Import the file's rows in bulk; an unreadable or empty file quarantines its submission.

    A file taken in before (same bytes) is found by `import_file` and adds nothing; one whose
    import was cut short is finished, since its rows are matched by their external reference.
    """
    try:
        report = import_file(path, source=source, by=SYSTEM, filename=name)
    except ImportFileError as exc:
        return _settle(
            submission.pk,
            state=SubmissionState.QUARANTINED,
            reasons=[{"code": "parse_error", "message": str(exc)}],
        )
    outcome.batch_id = report.batch_id
    outcome.rows = {
        "read": report.rows_read,
        "created": report.created,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
    }
    outcome.rejected_report = report.report_path
    if not report.rows_read:
        return _settle(
            submission.pk,
            state=SubmissionState.QUARANTINED,
            reasons=[{"code": "empty", "message": _("No lead found in it.")}],
        )
    return _settle(submission.pk, state=SubmissionState.PROCESSED, batch_id=report.batch_id)


@transaction.atomic
def _settle(
    submission_id: int,
    *,
    state: str,
    reasons: list[dict[str, str]] | None = None,
    batch_id: int | None = None,
) -> RawSubmission:
    """Record how a file submission ended; its rows became leads through the bulk import."""
    submission = RawSubmission.objects.select_for_update().get(pk=submission_id)
    submission.state = state
    submission.disposition = "" if state in _FAILED_STATES else Disposition.ACCEPTED
    submission.reasons = reasons or []
    if batch_id is not None:
        submission.meta = {**submission.meta, "import_batch": batch_id}
    submission.processed_at = timezone.now()
    submission.save(update_fields=["state", "disposition", "reasons", "meta", "processed_at"])
    return submission


def _move(conn: FtpSettings, name: str, folder: str, outcome: FileOutcome) -> str:
    try:
        return ftp.move(conn, name, folder)
    except FtpError as exc:
        # Stored already: the next poll finds the same bytes and only moves the file.
        outcome.error = exc.detail
        return ""
