"""An FTP, FTPS or SFTP drop folder: list the files that finished uploading, fetch them, file them.

A provider uploads lead files into a directory; we list it, download each complete file, and move
it to `processed/` or `failed/` beside it. Connection settings live in
`Source.field_mapping["ftp"]`: {host, port, username, directory, tls, passive, sftp,
host_key}, with optional `max_bytes` (download cap, default 200 MB) and `timeout` (seconds,
default 30); the password is added from its encrypted `ChannelSecret` when the poller logs in.
With `sftp` the folder is reached over SSH (channels/sftp.py, asyncssh).

Each call opens its own short connection, and every network call has a time-out (ftplib applies
the connection's time-out to the control and the data sockets).
"""

from __future__ import annotations

import contextlib
import ftplib
import hashlib
import io
import os
import posixpath
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext as _

from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.errors import LeadloopError
from leadloop.intake.channels import ParseError, Record, register
from leadloop.intake.imports.reader import ImportFileError, open_table

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

FTP_CHANNEL = "ftp"

PROCESSED = "processed"
FAILED = "failed"
DEFAULT_MAX_BYTES = 200 * 1024 * 1024
DEFAULT_TIMEOUT = 30.0
# Two listings this far apart must agree on a file's size before we take it: a file that still
# grows is being uploaded.
SETTLE_SECONDS = 3.0
# Upload clients write to a temporary name and rename at the end (WinSCP .filepart, FileZilla
# and lftp .part, many scripts .tmp, rsync a hidden ".name.Ab12Cd").
PARTIAL_SUFFIXES = (".part", ".tmp", ".filepart", ".partial", ".crdownload")


class FtpError(LeadloopError):
    """The drop folder could not be read or changed: bad settings, login refused, network down."""

    title = "FTP drop folder unavailable"


class FileTooLarge(FtpError):
    """A file over the download cap: it can never be taken in, so it goes to failed/."""


@dataclass(frozen=True)
class FtpSettings:
    """How to reach one source's drop folder."""

    host: str
    port: int = 21
    username: str = "anonymous"
    password: str = ""
    directory: str = "/"
    tls: bool = False
    passive: bool = True
    max_bytes: int = DEFAULT_MAX_BYTES
    timeout: float = DEFAULT_TIMEOUT
    sftp: bool = False
    host_key: str = ""

    @classmethod
    def from_mapping(cls, conn_settings: dict[str, Any] | FtpSettings) -> FtpSettings:
        """Settings from a source's `field_mapping["ftp"]` dict; FtpError names what is wrong."""
        if isinstance(conn_settings, FtpSettings):
            return conn_settings
        if not isinstance(conn_settings, dict) or not str(conn_settings.get("host") or "").strip():
            raise FtpError(_("The FTP settings have no host."))
        sftp = bool(conn_settings.get("sftp", False))
        try:
            return cls(
                host=str(conn_settings["host"]).strip(),
                port=int(conn_settings.get("port") or (22 if sftp else 21)),
                username=str(conn_settings.get("username") or "anonymous"),
                password=str(conn_settings.get("password") or ""),
                directory=str(conn_settings.get("directory") or "/"),
                tls=bool(conn_settings.get("tls", False)),
                passive=bool(conn_settings.get("passive", True)),
                max_bytes=int(conn_settings.get("max_bytes") or DEFAULT_MAX_BYTES),
                timeout=float(conn_settings.get("timeout") or DEFAULT_TIMEOUT),
                sftp=sftp,
                host_key=str(conn_settings.get("host_key") or "").strip(),
            )
        except (TypeError, ValueError) as exc:
            raise FtpError(_("The FTP settings are invalid: %(reason)s") % {"reason": exc}) from exc


@dataclass(frozen=True)
class RemoteFile:
    """A complete file waiting in the drop folder."""

    name: str
    size: int
    modified: datetime | None


@dataclass(frozen=True)
class Download:
    """A file fetched to local disk, with the digest computed while it streamed."""

    path: Path
    size: int
    sha256: str


def list_new_files(
    conn_settings: dict[str, Any] | FtpSettings,
    *,
    settle_seconds: float = SETTLE_SECONDS,
    wait: Callable[[float], None] = time.sleep,
) -> list[RemoteFile]:
    """The complete files in the drop folder, oldest first.

    Skips folders (processed/ and failed/ among them), temporary upload names and any file whose
    size changed between two listings `settle_seconds` apart.
    """
    settings = FtpSettings.from_mapping(conn_settings)
    with _session(settings) as session:
        first = session.listing(_is_candidate)
        if not first:
            return []
        wait(settle_seconds)
        second = session.listing(_is_candidate)
    stable = [f for name, f in second.items() if name in first and first[name].size == f.size]
    return sorted(stable, key=lambda f: (f.modified or datetime.min.replace(tzinfo=UTC), f.name))


def download(
    conn_settings: dict[str, Any] | FtpSettings, name: str, dest_path: str | os.PathLike[str]
) -> Download:
    """Stream one file to `dest_path`; FtpError when it exceeds the size cap (nothing is kept)."""
    settings = FtpSettings.from_mapping(conn_settings)
    _check_name(name)
    dest = Path(dest_path)
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".part")
    digest = hashlib.sha256()
    received = 0

    def write(block: bytes) -> None:
        nonlocal received
        received += len(block)
        if received > settings.max_bytes:
            raise _TooLarge
        digest.update(block)
        out.write(block)

    try:
        with _session(settings) as session, partial.open("wb") as out:
            try:
                session.retrieve(name, write)
            except _TooLarge:
                raise FileTooLarge(
                    _("%(name)s is larger than the limit of %(limit)s bytes.")
                    % {"name": name, "limit": settings.max_bytes}
                ) from None
        partial.replace(dest)
    finally:
        partial.unlink(missing_ok=True)
    return Download(path=dest, size=received, sha256=digest.hexdigest())


def move(conn_settings: dict[str, Any] | FtpSettings, name: str, folder: str) -> str:
    """Move a file into `folder` (processed/ or failed/) beside it, creating the folder.

    A file of the same name already there is kept: the newcomer gets a time stamp in its name.
    Returns the new remote path, relative to the drop folder.
    """
    settings = FtpSettings.from_mapping(conn_settings)
    _check_name(name)
    _check_name(folder)
    with _session(settings) as session:
        session.ensure_folder(folder)
        existing = set(session.names(folder))
        target_name = name
        if target_name in existing:
            stamp = datetime.now(tz=UTC).strftime("%Y%m%dT%H%M%S%f")
            stem, dot, ext = name.rpartition(".")
            target_name = f"{stem}-{stamp}.{ext}" if dot and stem else f"{name}-{stamp}"
        target = f"{folder}/{target_name}"
        session.rename(name, target)
    return target


def server_host_key(conn_settings: dict[str, Any] | FtpSettings) -> str:
    """An SFTP server's host key (OpenSSH public key line), read without logging in."""
    from leadloop.intake.channels.ftp import sftp

    return sftp.server_host_key(FtpSettings.from_mapping(conn_settings))


@register(FTP_CHANNEL)
def parse_file_submission(submission: RawSubmission) -> list[Record]:
    """The rows of a stored drop-folder file (CSV/TSV/XLSX/XLS/ODS), each a record by header."""
    from leadloop.intake.services import MAX_RECORDS

    filename = str(submission.meta.get("filename") or "file.csv")
    records: list[Record] = []
    try:
        with open_table(io.BytesIO(bytes(submission.body)), filename=filename) as table:
            for cells in table.rows():
                records.append(dict(zip(table.headers, cells, strict=True)))
                # One past the limit is enough for the core to refuse the file with its reason.
                if len(records) > MAX_RECORDS:
                    break
    except ImportFileError as exc:
        raise ParseError(str(exc)) from exc
    return records


class _TooLarge(Exception):
    pass


class _FtpSession:
    """The drop-folder steps over ftplib (FTP and FTPS), as channels/sftp.py has them for SSH."""

    def __init__(self, ftp: ftplib.FTP) -> None:
        self.ftp = ftp

    def listing(self, candidate: Callable[[str], bool]) -> dict[str, RemoteFile]:
        return {n: f for n, f in _listing(self.ftp).items() if candidate(n)}

    def retrieve(self, name: str, write: Callable[[bytes], None]) -> None:
        _call(self.ftp.retrbinary, f"RETR {name}", write, blocksize=64 * 1024)

    def names(self, folder: str) -> list[str]:
        return _names(self.ftp, folder)

    def ensure_folder(self, folder: str) -> None:
        with contextlib.suppress(ftplib.error_perm):
            self.ftp.mkd(folder)  # 550 when it exists already

    def rename(self, source: str, target: str) -> None:
        _call(self.ftp.rename, source, target)


@contextlib.contextmanager
def _session(settings: FtpSettings) -> Iterator[Any]:
    if settings.sftp:
        from leadloop.intake.channels.ftp import sftp

        with sftp.connected(settings) as session:
            yield session
    else:
        with _connected(settings) as ftp:
            yield _FtpSession(ftp)


@contextlib.contextmanager
def _connected(settings: FtpSettings) -> Iterator[ftplib.FTP]:
    ftp: ftplib.FTP
    if settings.tls:
        context = ssl.create_default_context()
        ftp = ftplib.FTP_TLS(context=context, timeout=settings.timeout)  # noqa: S321
    else:
        # Plain FTP because drop-folder providers still offer only that; `tls` asks for FTPS.
        ftp = ftplib.FTP(timeout=settings.timeout)  # noqa: S321
    try:
        try:
            refuse_private_host(settings.host)
        except PrivateHostError as exc:
            raise FtpError(str(exc)) from exc
        _call(ftp.connect, settings.host, settings.port, timeout=settings.timeout)
        _call(ftp.login, settings.username, settings.password)
        if isinstance(ftp, ftplib.FTP_TLS):
            _call(ftp.prot_p)  # encrypt the data connections too, not only the login
        ftp.set_pasv(settings.passive)
        _call(ftp.cwd, settings.directory)
        yield ftp
    finally:
        if ftp.sock is not None:
            with contextlib.suppress(*ftplib.all_errors):
                ftp.quit()
        ftp.close()


def _call(method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run one FTP command; any protocol, network or TLS failure becomes an FtpError."""
    try:
        return method(*args, **kwargs)
    except ftplib.all_errors as exc:
        raise FtpError(_("FTP failed: %(reason)s") % {"reason": str(exc).strip()}) from exc


def _listing(ftp: ftplib.FTP) -> dict[str, RemoteFile]:
    """Candidate files by name: regular files that do not look like an upload in progress."""
    files: dict[str, RemoteFile] = {}
    try:
        entries = list(ftp.mlsd(facts=["type", "size", "modify"]))
    except ftplib.error_perm:
        entries = [(name, _facts_without_mlsd(ftp, name)) for name in _names(ftp, ".")]
    except ftplib.all_errors as exc:
        raise FtpError(_("FTP failed: %(reason)s") % {"reason": str(exc).strip()}) from exc
    for name, facts in entries:
        if facts.get("type", "file") != "file" or not _is_candidate(name):
            continue
        try:
            size = int(facts.get("size", ""))
        except ValueError:
            continue
        files[name] = RemoteFile(name=name, size=size, modified=_modified(facts.get("modify")))
    return files


def _facts_without_mlsd(ftp: ftplib.FTP, name: str) -> dict[str, str]:
    """Size and time of one entry on a server without MLSD; folders have no size."""
    try:
        size = ftp.size(name)
    except ftplib.error_perm:
        return {"type": "dir"}
    facts = {"type": "file", "size": str(size)}
    with contextlib.suppress(ftplib.error_perm):
        facts["modify"] = ftp.voidcmd(f"MDTM {name}").split()[-1]
    return facts


def _names(ftp: ftplib.FTP, folder: str) -> list[str]:
    try:
        return [posixpath.basename(n) for n in ftp.nlst(folder)]
    except ftplib.error_perm:
        return []  # some servers answer an empty folder with 550
    except ftplib.all_errors as exc:
        raise FtpError(_("FTP failed: %(reason)s") % {"reason": str(exc).strip()}) from exc


def _is_candidate(name: str) -> bool:
    if name in {PROCESSED, FAILED} or name.startswith("."):
        return False
    if name.lower().endswith(PARTIAL_SUFFIXES):
        return False
    return _safe_name(name)


def _safe_name(name: str) -> bool:
    # A listed name is untrusted: it becomes part of a command and of a local path.
    return bool(name) and name not in {".", ".."} and not any(c in name for c in "/\\\r\n\x00")


def _check_name(name: str) -> None:
    if not _safe_name(name):
        raise FtpError(_("Refused the file name %(name)r.") % {"name": name})


def _modified(value: str | None) -> datetime | None:
    """MLSD/MDTM time 'YYYYMMDDHHMMSS[.sss]' (UTC) as an aware datetime."""
    if not value:
        return None
    try:
        return datetime.strptime(value[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None
