"""The FTP drop-folder client against a real FTP server (pyftpdlib) on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

from leadloop.intake.channels.ftp import client as ftp
from leadloop.intake.channels.ftp.client import FtpError, RemoteFile


class DropFolder:
    """A running FTP server whose drop folder is `root` on local disk."""

    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.settings = {
            "host": "127.0.0.1",
            "port": port,
            "username": "provider",
            "password": "s3cret",
            "directory": "/drop",
            "tls": False,
            "passive": True,
            "timeout": 5,
        }

    def put(self, name: str, content: bytes) -> Path:
        path = self.root / name
        path.write_bytes(content)
        return path


@pytest.fixture
def ftp_server(tmp_path: Path) -> Iterator[DropFolder]:
    """A real FTP server on a free port, serving a temporary home with a drop/ folder."""
    home = tmp_path / "ftp-home"
    (home / "drop").mkdir(parents=True)
    authorizer = DummyAuthorizer()
    authorizer.add_user("provider", "s3cret", str(home), perm="elradfmwMT")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "timeout": 10})
    logging.getLogger("pyftpdlib").setLevel(logging.WARNING)
    server = FTPServer(("127.0.0.1", 0), handler)
    port = server.socket.getsockname()[1]
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            server.serve_forever(timeout=0.05, blocking=False, handle_exit=False)
        server.close_all()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield DropFolder(home / "drop", port)
    stop.set()
    thread.join(timeout=5)


def no_wait(seconds: float) -> None:
    """Two listings back to back: the files do not change in between."""


def test_lists_complete_files_and_skips_folders_and_temporary_names(ftp_server):
    ftp_server.put("leads-1.csv", b"email\nann@example.com\n")
    ftp_server.put("leads-2.xlsx", b"x" * 300)
    ftp_server.put("upload.csv.part", b"email\n")
    ftp_server.put("upload.tmp", b"email\n")
    ftp_server.put(".leads-3.csv.Xa9", b"email\n")
    (ftp_server.root / "processed").mkdir()
    (ftp_server.root / "failed").mkdir()
    ftp_server.put("processed/old.csv", b"email\n")

    files = ftp.list_new_files(ftp_server.settings, wait=no_wait)

    assert sorted((f.name, f.size) for f in files) == [("leads-1.csv", 22), ("leads-2.xlsx", 300)]
    assert all(isinstance(f, RemoteFile) and f.modified is not None for f in files)


def test_a_file_that_grows_between_two_listings_is_left_for_the_next_poll(ftp_server):
    ftp_server.put("done.csv", b"email\nann@example.com\n")
    growing = ftp_server.put("growing.csv", b"email\n")
    waits = []

    def upload_continues(seconds: float) -> None:
        waits.append(seconds)
        with growing.open("ab") as handle:
            handle.write(b"bob@example.com\n")

    files = ftp.list_new_files(ftp_server.settings, settle_seconds=2.5, wait=upload_continues)

    assert [f.name for f in files] == ["done.csv"]
    assert waits == [2.5]


def test_an_empty_drop_folder_lists_nothing_without_waiting(ftp_server):
    waits: list[float] = []

    files = ftp.list_new_files(ftp_server.settings, wait=waits.append)

    assert files == []
    assert waits == []


def test_download_streams_the_file_to_disk_with_its_digest(ftp_server, tmp_path):
    content = b"email,name\n" + b"ann@example.com,Ann\n" * 10_000
    ftp_server.put("leads.csv", content)
    dest = tmp_path / "local" / "leads.csv"

    fetched = ftp.download(ftp_server.settings, "leads.csv", dest)

    assert dest.read_bytes() == content
    assert fetched.size == len(content)
    assert fetched.path == dest
    assert fetched.sha256 == __import__("hashlib").sha256(content).hexdigest()
    assert sorted(p.name for p in dest.parent.iterdir()) == ["leads.csv"]


def test_download_over_the_size_cap_keeps_nothing(ftp_server, tmp_path):
    ftp_server.put("huge.csv", b"x" * 5000)
    settings = {**ftp_server.settings, "max_bytes": 4096}
    dest = tmp_path / "local" / "huge.csv"

    with pytest.raises(FtpError, match=r"^huge\.csv is larger than the limit of 4096 bytes\.$"):
        ftp.download(settings, "huge.csv", dest)

    assert list(dest.parent.iterdir()) == []


def test_download_of_a_missing_file_is_an_ftp_error(ftp_server, tmp_path):
    with pytest.raises(FtpError, match=r"^FTP failed: 550"):
        ftp.download(ftp_server.settings, "absent.csv", tmp_path / "absent.csv")

    assert list(tmp_path.iterdir()) == [tmp_path / "ftp-home"]


def test_move_files_into_processed_and_failed_creating_the_folders(ftp_server):
    ftp_server.put("good.csv", b"email\n")
    ftp_server.put("bad.csv", b"\x00\x01")

    good = ftp.move(ftp_server.settings, "good.csv", "processed")
    bad = ftp.move(ftp_server.settings, "bad.csv", "failed")

    assert (good, bad) == ("processed/good.csv", "failed/bad.csv")
    assert (ftp_server.root / "processed" / "good.csv").read_bytes() == b"email\n"
    assert (ftp_server.root / "failed" / "bad.csv").read_bytes() == b"\x00\x01"
    assert ftp.list_new_files(ftp_server.settings, wait=no_wait) == []


def test_moving_a_name_that_was_processed_before_keeps_both_files(ftp_server):
    (ftp_server.root / "processed").mkdir()
    ftp_server.put("processed/daily.csv", b"monday\n")
    ftp_server.put("daily.csv", b"tuesday\n")

    target = ftp.move(ftp_server.settings, "daily.csv", "processed")

    assert target.startswith("processed/daily-")
    assert target.endswith(".csv")
    assert (ftp_server.root / "processed" / "daily.csv").read_bytes() == b"monday\n"
    assert (ftp_server.root / target).read_bytes() == b"tuesday\n"


@pytest.mark.parametrize("name", ["../escape.csv", "sub/leads.csv", "..", "a\r\nDELE b"])
def test_names_that_could_leave_the_folder_are_refused(ftp_server, tmp_path, name):
    with pytest.raises(FtpError, match=r"^Refused the file name "):
        ftp.move(ftp_server.settings, name, "processed")

    assert not (ftp_server.root / "processed").exists()


def test_a_wrong_password_is_a_one_line_ftp_error(ftp_server):
    settings = {**ftp_server.settings, "password": "wrong"}

    with pytest.raises(FtpError, match=r"^FTP failed: 530 Authentication failed\.$"):
        ftp.list_new_files(settings, wait=no_wait)


def test_settings_without_a_host_are_refused():
    with pytest.raises(FtpError, match=r"^The FTP settings have no host\.$"):
        ftp.list_new_files({"username": "x"}, wait=no_wait)


def test_a_closed_port_fails_within_the_time_out(ftp_server):
    settings = {**ftp_server.settings, "port": 1, "timeout": 2}

    with pytest.raises(FtpError, match=r"^FTP failed: "):
        ftp.list_new_files(settings, wait=no_wait)
