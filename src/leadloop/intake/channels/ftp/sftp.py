"""SFTP drop folders (SSH), through asyncssh: the same listing, download and move as FTP.

`channels.ftp` calls in here when a source's FTP settings say `sftp: true`. The server's host key
is checked before the password is sent: `host_key` holds it as an OpenSSH public key line
("ssh-ed25519 AAAA…"). A source without one learns it on first contact (`server_host_key`,
trust on first use, recorded by the poll and shown in the channel settings); after that a
different key is refused as a possible impostor. Only password login is offered.

asyncssh is asynchronous; each connection here runs on its own private event loop, so callers stay
synchronous like the rest of the intake. Every network step has the settings' time-out.
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import asyncssh
from django.utils.translation import gettext as _

from leadloop.core.network import PrivateHostError, refuse_private_host

if TYPE_CHECKING:
    from leadloop.intake.channels.ftp.client import FtpSettings, RemoteFile

T = TypeVar("T")
BLOCK = 64 * 1024


class SftpSession:
    """One logged-in SFTP connection, in the drop folder, with blocking methods."""

    def __init__(self, loop: asyncio.AbstractEventLoop, timeout: float) -> None:
        self._loop = loop
        self._timeout = timeout
        self.client: asyncssh.SFTPClient | None = None

    def run(self, step: Awaitable[T]) -> T:
        from leadloop.intake.channels.ftp.client import FtpError

        try:
            return self._loop.run_until_complete(asyncio.wait_for(step, self._timeout))
        except (asyncssh.Error, OSError, TimeoutError) as exc:
            reason = str(getattr(exc, "reason", "") or exc or type(exc).__name__).strip()
            raise FtpError(_("SFTP failed: %(reason)s") % {"reason": reason}) from exc

    @property
    def sftp(self) -> asyncssh.SFTPClient:
        assert self.client is not None
        return self.client

    def listing(self, candidate: Callable[[str], bool]) -> dict[str, RemoteFile]:
        from leadloop.intake.channels.ftp.client import RemoteFile

        files: dict[str, RemoteFile] = {}
        for entry in self.run(self.sftp.readdir(".")):
            name = str(entry.filename)
            attrs = entry.attrs
            if attrs.permissions is None or not stat.S_ISREG(attrs.permissions):
                continue
            if not candidate(name) or attrs.size is None:
                continue
            modified = datetime.fromtimestamp(attrs.mtime, tz=UTC) if attrs.mtime else None
            files[name] = RemoteFile(name=name, size=int(attrs.size), modified=modified)
        return files

    def retrieve(self, name: str, write: Callable[[bytes], None]) -> None:
        async def copy() -> None:
            async with self.sftp.open(name, "rb") as remote:
                while block := await remote.read(BLOCK):
                    write(block)  # type: ignore[arg-type]  # "rb" reads bytes

        self.run(copy())

    def names(self, folder: str) -> list[str]:
        if not self.run(self.sftp.isdir(folder)):
            return []
        return [str(n) for n in self.run(self.sftp.listdir(folder)) if n not in (".", "..")]

    def ensure_folder(self, folder: str) -> None:
        if not self.run(self.sftp.isdir(folder)):
            self.run(self.sftp.mkdir(folder))

    def rename(self, source: str, target: str) -> None:
        self.run(self.sftp.rename(source, target))

    def store(self, name: str, data: bytes) -> None:
        """Upload `data` as `name`: written under a temporary name, then renamed, so the other
        side never picks up half a file."""
        part = f"{name}.part"

        async def upload() -> None:
            async with self.sftp.open(part, "wb") as remote:
                for start in range(0, len(data), BLOCK):
                    await remote.write(data[start : start + BLOCK])

        self.run(upload())
        if self.run(self.sftp.exists(name)):
            self.run(self.sftp.remove(name))
        self.rename(part, name)


def _options(settings: FtpSettings) -> dict[str, Any]:
    # Nothing from the machine's own ~/.ssh (keys, agent, config) may leak into a provider login.
    return {
        "port": settings.port,
        "connect_timeout": settings.timeout,
        "config": None,
        "agent_path": None,
        "client_keys": None,
        "known_hosts": None,
    }


def _check_host(settings: FtpSettings) -> None:
    from leadloop.intake.channels.ftp.client import FtpError

    try:
        refuse_private_host(settings.host)
    except PrivateHostError as exc:
        raise FtpError(str(exc)) from exc


def server_host_key(settings: FtpSettings) -> str:
    """The server's public host key as an OpenSSH line, read without logging in."""
    _check_host(settings)
    loop = asyncio.new_event_loop()
    try:
        session = SftpSession(loop, settings.timeout)  # run() bounds it by the time-out
        key = session.run(asyncssh.get_server_host_key(settings.host, settings.port, config=None))
    finally:
        loop.close()
    if key is None:
        from leadloop.intake.channels.ftp.client import FtpError

        raise FtpError(_("The SFTP server showed no host key."))
    return key.export_public_key().decode().strip()


@contextlib.contextmanager
def connected(settings: FtpSettings) -> Iterator[SftpSession]:
    """Log in (after checking the host key) and change to the drop folder."""
    from leadloop.intake.channels.ftp.client import FtpError

    _check_host(settings)
    if not settings.host_key:
        raise FtpError(_("The SFTP server's host key is not known yet."))
    try:
        trusted = asyncssh.import_public_key(settings.host_key)
    except (asyncssh.KeyImportError, ValueError) as exc:
        raise FtpError(_("The stored SFTP host key cannot be read.")) from exc
    loop = asyncio.new_event_loop()
    session = SftpSession(loop, settings.timeout)
    connection: asyncssh.SSHClientConnection | None = None
    try:
        connection = session.run(
            asyncssh.connect(
                settings.host,
                username=settings.username,
                password=settings.password,
                **{**_options(settings), "known_hosts": ([trusted], [], [])},
            )
        )
        session.client = session.run(connection.start_sftp_client())
        session.run(session.sftp.chdir(settings.directory))
        yield session
    finally:
        if session.client is not None:
            session.client.exit()
        if connection is not None:
            connection.close()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.wait_for(connection.wait_closed(), 2))
        loop.close()
