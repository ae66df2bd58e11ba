"""SFTP drop folders against a real SSH server (asyncssh) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path

import asyncssh
import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.intake.channels import settings as channel_settings
from leadloop.intake.channels.ftp import client as ftp
from leadloop.intake.channels.ftp.client import FtpError
from leadloop.intake.channels.ftp.ingest import poll_ftp
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.intake import set_channel_mapping
from tests.factories.leads import make_source
from tests.intake.channels.ftp.test_client import no_wait

CSV = b"email;first_name\r\nann@example.com;Ann\r\nbob@example.com;Bob\r\n"


class SftpDrop:
    """A running SFTP server whose drop folder is `root` on local disk."""

    def __init__(self, root: Path, port: int, host_key: str) -> None:
        self.root = root
        self.host_key = host_key
        self.settings = {
            "host": "127.0.0.1",
            "port": port,
            "username": "provider",
            "password": "s3cret",
            "directory": "/drop",
            "sftp": True,
            "host_key": host_key,
            "timeout": 5,
        }

    def put(self, name: str, content: bytes) -> Path:
        path = self.root / name
        path.write_bytes(content)
        return path


class _Server(asyncssh.SSHServer):
    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return (username, password) == ("provider", "s3cret")


@pytest.fixture
def sftp_server(tmp_path: Path) -> Iterator[SftpDrop]:
    home = tmp_path / "sftp-home"
    (home / "drop").mkdir(parents=True)
    key = asyncssh.generate_private_key("ssh-ed25519")
    loop = asyncio.new_event_loop()

    def sftp_factory(chan: asyncssh.SSHServerChannel) -> asyncssh.SFTPServer:
        return asyncssh.SFTPServer(chan, chroot=str(home).encode())

    server = loop.run_until_complete(
        asyncssh.create_server(
            _Server, "127.0.0.1", 0, server_host_keys=[key], sftp_factory=sftp_factory
        )
    )
    port = server.sockets[0].getsockname()[1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield SftpDrop(home / "drop", port, key.export_public_key().decode().strip())
    loop.call_soon_threadsafe(server.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(timeout=5)


def test_lists_downloads_and_files_away_over_sftp(sftp_server, tmp_path):
    sftp_server.put("leads.csv", CSV)
    sftp_server.put("upload.csv.part", b"email\n")
    (sftp_server.root / "processed").mkdir()

    files = ftp.list_new_files(sftp_server.settings, wait=no_wait)
    fetched = ftp.download(sftp_server.settings, "leads.csv", tmp_path / "local.csv")
    moved = ftp.move(sftp_server.settings, "leads.csv", ftp.PROCESSED)

    assert [(f.name, f.size) for f in files] == [("leads.csv", len(CSV))]
    assert files[0].modified is not None
    assert fetched.path.read_bytes() == CSV
    assert moved == "processed/leads.csv"
    assert (sftp_server.root / "processed" / "leads.csv").read_bytes() == CSV


def test_a_file_over_the_cap_is_refused_and_nothing_is_kept(sftp_server, tmp_path):
    sftp_server.put("huge.csv", CSV)

    with pytest.raises(ftp.FileTooLarge):
        ftp.download({**sftp_server.settings, "max_bytes": 10}, "huge.csv", tmp_path / "h.csv")

    assert list(tmp_path.glob("h.csv*")) == []


def test_a_server_showing_another_host_key_gets_no_password(sftp_server):
    impostor = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()

    with pytest.raises(FtpError, match="SFTP failed"):
        ftp.list_new_files({**sftp_server.settings, "host_key": impostor}, wait=no_wait)


def test_a_wrong_password_is_a_clear_error(sftp_server):
    with pytest.raises(FtpError, match="SFTP failed"):
        ftp.list_new_files({**sftp_server.settings, "password": "wrong"}, wait=no_wait)


def test_without_a_known_host_key_nothing_is_sent(sftp_server):
    with pytest.raises(FtpError, match="host key is not known"):
        ftp.list_new_files({**sftp_server.settings, "host_key": ""}, wait=no_wait)


@pytest.mark.django_db
def test_a_poll_trusts_the_key_on_first_use_and_takes_the_file_in(sftp_server, tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    source = make_source("SFTP drop", kind=ChannelKind.FTP)
    set_channel_mapping(
        source, mapping={"ftp": {**sftp_server.settings, "host_key": ""}}, by=SYSTEM
    )
    sftp_server.put("monday.csv", CSV)

    poll = poll_ftp(source, wait=no_wait)

    source.refresh_from_db()
    assert source.field_mapping["ftp"]["host_key"] == sftp_server.host_key
    assert [f.moved_to for f in poll.files] == ["processed/monday.csv"]
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
    ]


@pytest.mark.django_db
def test_channel_settings_check_the_host_key_and_forget_it_when_the_host_changes(sftp_server):
    source = make_source("SFTP drop", kind=ChannelKind.FTP)
    channel_settings.set_channel_settings(source, settings={"ftp": sftp_server.settings}, by=SYSTEM)
    with pytest.raises(Exception, match="not valid") as caught:
        channel_settings.set_channel_settings(
            source, settings={"ftp": {"host_key": "<script>alert(1)</script>"}}, by=SYSTEM
        )
    moved = channel_settings.set_channel_settings(
        source,
        settings={"ftp": {"host": "sftp.example.com", "password": "s3cret"}},
        by=SYSTEM,
    )

    assert "ftp.host_key" in caught.value.errors
    assert moved.field_mapping["ftp"]["host_key"] == ""
    assert moved.field_mapping["ftp"]["sftp"] is True
