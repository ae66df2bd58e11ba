"""Mail into the intake over its real protocols: SMTP (aiosmtpd + smtplib), mbox files, IMAP."""

from __future__ import annotations

import json
import mailbox
import smtplib
import socket
import socketserver
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connections

from leadloop.accounts.actors import SYSTEM
from leadloop.intake.channels.email.ingest import poll_imap_source, smtp_controller
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.intake import set_channel_mapping
from tests.factories.leads import make_source


def _mail(first: str, email: str, *, to: str = "offertes@leads.example") -> bytes:
    message = EmailMessage()
    message["From"] = "Formulieren BV <noreply@formulieren.example>"
    message["To"] = to
    message["Subject"] = "Nieuwe aanvraag"
    message["Message-ID"] = f"<{first.encode('ascii', 'ignore').decode()}@formulieren.example>"
    message.set_content(f"Voornaam: {first}\nAchternaam: de Vries\nE-mailadres: {email}\n")
    return message.as_bytes()


def _mail_source(name: str = "Offerte mails", **mapping: object):
    source = make_source(name, kind=ChannelKind.EMAIL)
    return set_channel_mapping(source, mapping={"email_address": "offertes", **mapping}, by=SYSTEM)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp_server() -> Iterator[int]:
    port = _free_port()
    controller = smtp_controller(host="127.0.0.1", port=port, domain="leads.example", inline=True)
    controller.start()
    yield port
    controller.stop()


@pytest.mark.django_db(transaction=True)
def test_mail_over_smtp_is_stored_and_becomes_a_lead(smtp_server):
    source = _mail_source()
    raw = _mail("Noa", "noa@example.nl").replace(b"\n", b"\r\n")

    with smtplib.SMTP("127.0.0.1", smtp_server, timeout=10) as client:
        refused = client.sendmail("noreply@formulieren.example", ["offertes@leads.example"], raw)

    assert refused == {}
    submission = RawSubmission.objects.get()
    assert (submission.source_id, submission.channel, submission.state) == (
        source.pk,
        "email",
        SubmissionState.PROCESSED,
    )
    assert submission.headers == {
        "Mail-From": "noreply@formulieren.example",
        "Rcpt-To": "offertes@leads.example",
        "Peer": "127.0.0.1",
    }
    assert bytes(submission.body) == raw
    lead = Lead.objects.get()
    assert (lead.first_name, lead.last_name, lead.email, lead.source_id) == (
        "Noa",
        "de Vries",
        "noa@example.nl",
        source.pk,
    )
    assert submission.lead_id == lead.pk


@pytest.mark.django_db(transaction=True)
def test_source_id_as_local_part_is_accepted_over_smtp(smtp_server):
    source = _mail_source()

    with smtplib.SMTP("127.0.0.1", smtp_server, timeout=10) as client:
        client.sendmail("a@b.example", [f"{source.pk}@leads.example"], _mail("Sem", "sem@x.nl"))

    assert list(RawSubmission.objects.values_list("source_id", "state")) == [
        (source.pk, SubmissionState.PROCESSED)
    ]


@pytest.mark.django_db(transaction=True)
def test_unknown_recipient_is_refused_with_550_and_nothing_is_stored(smtp_server):
    _mail_source()

    with (
        smtplib.SMTP("127.0.0.1", smtp_server, timeout=10) as client,
        pytest.raises(smtplib.SMTPRecipientsRefused) as refused,
    ):
        client.sendmail(
            "a@b.example",
            ["nobody@leads.example", "offertes@elsewhere.example"],
            _mail("Noa", "noa@example.nl"),
        )

    assert {code for code, _text in refused.value.recipients.values()} == {550}
    assert RawSubmission.objects.count() == 0
    assert Lead.objects.count() == 0


def test_import_mail_of_an_mbox_stores_and_processes_each_message(tmp_path, db):
    source = _mail_source()
    path = tmp_path / "leads.mbox"
    box = mailbox.mbox(path)
    box.add(_mail("Noa", "noa@example.nl"))
    box.add(_mail("Sem", "sem@example.nl"))
    box.add(_mail("Zoë", ""))
    box.close()
    out = StringIO()

    call_command("import_mail", str(path), source=source.name, json=True, stdout=out)

    result = json.loads(out.getvalue())
    assert [(m["state"], m["disposition"]) for m in result["messages"]] == [
        ("processed", "accepted"),
        ("processed", "accepted"),
        # A mailbox never sends again: a lead without contact waits for a person.
        ("quarantined", "review"),
    ]
    assert result["counts"] == {"processed": 2, "quarantined": 1}
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "noa@example.nl",
        "sem@example.nl",
    ]
    assert RawSubmission.objects.filter(source=source, channel="email").count() == 3


def test_import_mail_into_an_unknown_source_fails_and_stores_nothing(tmp_path, db):
    path = tmp_path / "one.eml"
    path.write_bytes(_mail("Noa", "noa@example.nl"))

    with pytest.raises(CommandError, match=r"No source named Nergens\."):
        call_command("import_mail", str(path), source="Nergens")

    assert RawSubmission.objects.count() == 0


# --- IMAP: a tiny IMAP4rev1 server over a real socket, enough for IMAPClient -------------------


class _Mailbox:
    def __init__(self, messages: list[bytes]) -> None:
        self.messages = dict(enumerate(messages, 1))
        self.seen: set[int] = set()
        self.log: list[str] = []  # what the client did, in order


class _ImapHandler(socketserver.StreamRequestHandler):
    mailbox: _Mailbox

    def handle(self) -> None:
        self._send(b"* OK IMAP4rev1 test server ready")
        while line := self.rfile.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, args = args.partition(" ")
                command = f"UID {command.upper()}"
            box = self.mailbox
            if command == "CAPABILITY":
                self._send(b"* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                box.log.append(f"login {args}")
            elif command == "SELECT":
                self._send(f"* {len(box.messages)} EXISTS".encode())
                self._send(b"* FLAGS (\\Seen)")
                self._send(b"* OK [UIDVALIDITY 1] ok")
                tag_reply = f"{tag} OK [READ-WRITE] SELECT completed"
                self._send(tag_reply.encode())
                continue
            elif command == "UID SEARCH":
                unseen = [str(u) for u in box.messages if u not in box.seen]
                self._send(("* SEARCH " + " ".join(unseen)).strip().encode())
            elif command == "UID FETCH":
                uid = int(args.split(" ")[0])
                raw = box.messages[uid]
                box.log.append(f"fetch {uid}")
                self._send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(raw)}}}".encode())
                self.wfile.write(raw + b")\r\n")
            elif command == "UID STORE":
                uid = int(args.split(" ")[0])
                stored = RawSubmission.objects.filter(**{"headers__Imap-Uid": str(uid)}).exists()
                connections.close_all()
                box.log.append(f"seen {uid} stored={stored}")
                box.seen.add(uid)
                self._send(f"* {uid} FETCH (UID {uid} FLAGS (\\Seen))".encode())
            elif command == "LOGOUT":
                self._send(b"* BYE")
                self._send(f"{tag} OK LOGOUT completed".encode())
                return
            self._send(f"{tag} OK {command} completed".encode())

    def _send(self, data: bytes) -> None:
        self.wfile.write(data + b"\r\n")


@pytest.fixture
def imap_server() -> Iterator[tuple[int, _Mailbox]]:
    box = _Mailbox([_mail("Noa", "noa@example.nl"), _mail("Sem", "sem@example.nl")])
    box.seen.add(2)
    box.messages[3] = _mail("Zoë", "zoe@example.nl")
    handler = type("Handler", (_ImapHandler,), {"mailbox": box})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], box
    server.shutdown()
    server.server_close()


@pytest.mark.django_db(transaction=True)
def test_imap_poll_stores_each_unseen_message_before_marking_it_seen(imap_server):
    port, box = imap_server
    source = _mail_source(
        imap={
            "host": "127.0.0.1",
            "port": port,
            "ssl": False,
            "username": "leads",
            "password": "geheim",
            "folder": "INBOX",
        }
    )

    stored = poll_imap_source(source)

    assert stored == 2
    assert box.log == [
        'login leads "geheim"',
        "fetch 1",
        "seen 1 stored=True",
        "fetch 3",
        "seen 3 stored=True",
    ]
    assert sorted(s.headers["Imap-Uid"] for s in RawSubmission.objects.filter(source=source)) == [
        "1",
        "3",
    ]
    assert poll_imap_source(source) == 0
