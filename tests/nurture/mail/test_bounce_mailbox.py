"""Returned mail from the bounce mailbox over IMAP (a small real IMAP server) and through the
SMTP listener (aiosmtpd, fed by smtplib): each mail is committed before it is flagged seen or
answered 250, read once, and shown to marketing as text."""

from __future__ import annotations

import json
import smtplib
import socket
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connections
from django.utils.html import escape

from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import (
    DeliveryReport,
    ReportKind,
    ReportVia,
    Suppression,
    SuppressionReason,
)
from leadloop.nurture.mail.services import bounces
from tests.conftest import shared_data_path
from tests.nurture.mail.imap_server import Mailbox, serving
from tests.nurture.mail.returned import arf, dsn

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sent(inbox, template, lead, marketing):
    message = mail.send_marketing_email(lead, template, by=marketing)
    mail.send_waiting()
    message.refresh_from_db()
    return message


def _stored_when_seen(uid: int) -> str:
    stored = DeliveryReport.objects.filter(**{"headers__Imap-Uid": str(uid)}).exists()
    connections.close_all()
    return f"stored={stored}"


@pytest.fixture
def bounce_mailbox(settings) -> Iterator[Mailbox]:
    box = Mailbox([])
    box.on_seen = _stored_when_seen
    with serving(box) as port:
        settings.LEADLOOP_BOUNCE_IMAP = {"host": "127.0.0.1", "port": port, "ssl": False,
                                         "username": "bounces", "password": "geheim",
                                         "folder": "Bounces"}  # fmt: skip
        yield box


def test_the_poll_stores_each_unseen_report_before_flagging_it_seen(sent, bounce_mailbox):
    box = bounce_mailbox
    box.messages = {
        1: dsn(sent.message_id, status="5.1.1"),
        2: dsn(sent.message_id, status="4.2.2"),
        3: arf(sent.message_id),
        4: b"From: someone@example.com\r\nSubject: out of office\r\n\r\nBack on Monday.\r\n",
    }
    box.seen.add(2)

    taken = mail.poll_bounce_mailbox()

    assert taken == 3
    assert box.log == [
        'login bounces "geheim"',
        'select "Bounces"',
        "fetch 1",
        "seen 1 stored=True",
        "fetch 3",
        "seen 3 stored=True",
        "fetch 4",
        "seen 4 stored=True",
    ]
    reports = DeliveryReport.objects.order_by("pk")
    assert [(r.via, r.headers["Imap-Uid"], r.kind, r.state) for r in reports] == [
        (ReportVia.IMAP, "1", ReportKind.HARD_BOUNCE, "read"),
        (ReportVia.IMAP, "3", ReportKind.COMPLAINT, "read"),
        (ReportVia.IMAP, "4", ReportKind.UNKNOWN, "read"),
    ]
    assert [bytes(r.raw) for r in reports] == [box.messages[1], box.messages[3], box.messages[4]]
    entry = Suppression.objects.get()
    assert (entry.email, entry.reason) == ("ann@smit.example", SuppressionReason.HARD_BOUNCE)
    assert mail.poll_bounce_mailbox() == 0


def test_a_report_fetched_again_after_a_crash_before_seen_is_stored_once(sent, bounce_mailbox):
    bounce_mailbox.messages = {7: dsn(sent.message_id, status="5.1.1")}
    mail.poll_bounce_mailbox()
    bounce_mailbox.seen.clear()  # the flag was lost: the process died after the commit

    mail.poll_bounce_mailbox()

    assert DeliveryReport.objects.count() == 1
    assert Suppression.objects.count() == 1
    assert bounce_mailbox.seen == {7}


def test_a_huge_mail_in_the_mailbox_is_kept_with_its_error_and_not_read(
    sent, bounce_mailbox, settings
):
    settings.LEADLOOP_BOUNCE_MAX_BYTES = 4000
    huge = dsn(sent.message_id, status="5.1.1", text="x" * 10_000)
    bounce_mailbox.messages = {1: huge}

    mail.poll_bounce_mailbox()

    report = DeliveryReport.objects.get()
    assert bytes(report.raw) == huge
    assert report.state == "unreadable"
    assert report.error == f"Not read: {len(huge)} bytes, over the limit of 4000."
    assert report.kind == ""
    assert not Suppression.objects.exists()
    assert bounce_mailbox.seen == {1}


def test_without_a_mailbox_the_job_polls_nothing(settings):
    from leadloop.nurture.mail.tasks import read_bounce_mailbox_task

    settings.LEADLOOP_BOUNCE_IMAP = {**settings.LEADLOOP_BOUNCE_IMAP, "host": ""}

    assert mail.imap_configured() is False
    assert read_bounce_mailbox_task.call() == 0
    assert not DeliveryReport.objects.exists()


# --- The SMTP listener ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def listener(settings) -> Iterator[int]:
    settings.LEADLOOP_BOUNCE_MAX_BYTES = 50_000
    port = _free_port()
    controller = mail.bounce_smtp_controller(host="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


def _deliver(port: int, *raws: bytes) -> None:
    with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
        for raw in raws:
            client.sendmail("", ["bounces@acme.example"], raw)


def test_the_listener_stores_and_reads_a_bounce_before_answering_250(sent, listener):
    raw = dsn(sent.message_id, status="5.1.1")

    _deliver(listener, raw)

    report = DeliveryReport.objects.get()
    assert bytes(report.raw) == raw
    assert (report.via, report.kind, report.message_id) == (
        ReportVia.SMTP,
        ReportKind.HARD_BOUNCE,
        sent.pk,
    )
    assert report.headers["Rcpt-To"] == "bounces@acme.example"
    assert Suppression.objects.get().email == "ann@smit.example"


def test_the_listener_refuses_a_mail_over_the_limit_with_552(sent, listener):
    huge = dsn(sent.message_id, status="5.1.1", text="x" * 60_000)

    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
        _deliver(listener, huge)

    assert refused.value.smtp_code == 552
    assert not DeliveryReport.objects.exists()
    assert not Suppression.objects.exists()


def test_the_listener_answers_451_when_the_mail_cannot_be_stored(sent, listener, monkeypatch):
    raw = dsn(sent.message_id, status="5.1.1")

    def broken_store(*args, **kwargs):
        raise DatabaseError("disk I/O error")

    with monkeypatch.context() as patched:
        patched.setattr(bounces, "_store", broken_store)
        with pytest.raises(smtplib.SMTPDataError) as refused:
            _deliver(listener, raw)
    _deliver(listener, raw)  # the sending server's retry

    assert refused.value.smtp_code == 451
    assert DeliveryReport.objects.count() == 1
    assert Suppression.objects.count() == 1


# --- Hostile text in returned mail ---------------------------------------------------------------


def _hostile_strings() -> list[str]:
    with open(shared_data_path("hostile", "blns.txt"), encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for line in handle]
    return [
        line
        for line in lines
        if line.strip() and not line.startswith("#") and "<" in line and len(line) < 200
    ][:40]


def _hostile_bounce(message_id: str, text: str) -> bytes:
    return dsn(message_id, status="5.1.1", diagnostic=f"550 5.1.1 {text}", text=text)


def _shown_escaped(client, report: DeliveryReport, text: str) -> None:
    page = client.get(f"/nurture/mail/returned/{report.pk}/").text
    listing = client.get("/nurture/mail/returned/").text
    assert escape(report.diagnostic) in page
    assert report.diagnostic not in page
    assert report.diagnostic not in listing
    assert escape(text) in page  # the raw mail, as text


def test_hostile_text_from_the_mailbox_is_stored_as_sent_and_shown_escaped(
    sent, bounce_mailbox, logged_in_client, marketing
):
    # One mailbox of the strings' returned mails, read in one poll (a mail that is the same as
    # one before it is stored once, so each string is here once).
    texts = list(dict.fromkeys(_hostile_strings()))
    raws = {uid: _hostile_bounce(sent.message_id, text) for uid, text in enumerate(texts, 1)}
    bounce_mailbox.messages = dict(raws)

    mail.poll_bounce_mailbox()

    client = logged_in_client(marketing)
    for uid, text in enumerate(texts, 1):
        report = DeliveryReport.objects.get(**{"headers__Imap-Uid": str(uid)})
        assert bytes(report.raw) == raws[uid], text
        assert report.diagnostic == " ".join(f"smtp; 550 5.1.1 {text}".split()), text
        assert report.kind == ReportKind.HARD_BOUNCE, text
        _shown_escaped(client, report, text)


def test_hostile_text_through_the_listener_is_stored_as_sent_and_shown_escaped(
    sent, listener, logged_in_client, marketing
):
    texts = list(dict.fromkeys(_hostile_strings()))[:10]
    raws = [_hostile_bounce(sent.message_id, text) for text in texts]

    _deliver(listener, *raws)  # one SMTP session, ten mails

    reports = list(DeliveryReport.objects.order_by("pk"))
    assert len(reports) == len(texts)
    client = logged_in_client(marketing)
    for report, raw, text in zip(reports, raws, texts, strict=True):
        assert bytes(report.raw) == raw, text
        assert report.diagnostic == " ".join(f"smtp; 550 5.1.1 {text}".split()), text
        _shown_escaped(client, report, text)


# --- The returned-mail pages ---------------------------------------------------------------------


def test_marketing_sees_the_unreadable_mail_and_reads_it_again_after_a_fix(
    sent, logged_in_client, marketing, settings
):
    settings.LEADLOOP_BOUNCE_MAX_BYTES = 1000
    report = mail.record_bounce(dsn(sent.message_id, status="5.1.1", text="x" * 2000))
    client = logged_in_client(marketing)

    unread = client.get("/nurture/mail/returned/?show=unread")
    settings.LEADLOOP_BOUNCE_MAX_BYTES = 100_000
    answer = client.post(f"/nurture/mail/returned/{report.pk}/read/")

    assert unread.status_code == 200
    assert "over the limit of 1000" in unread.text
    assert answer.status_code == 302
    report.refresh_from_db()
    assert report.state == "read"
    assert Suppression.objects.get().reason == SuppressionReason.HARD_BOUNCE


def test_a_rep_cannot_open_returned_mail(sent, logged_in_client, rep):
    report = mail.record_bounce(dsn(sent.message_id, status="5.1.1"))
    client = logged_in_client(rep)

    pages = [
        client.get("/nurture/mail/returned/"),
        client.get(f"/nurture/mail/returned/{report.pk}/"),
        client.post(f"/nurture/mail/returned/{report.pk}/read/"),
    ]

    assert [p.status_code for p in pages] == [403, 403, 403]


def test_the_command_reads_the_mailbox_once_and_says_when_none_is_set(
    sent, bounce_mailbox, settings, capsys
):
    from django.core.management import CommandError, call_command

    bounce_mailbox.messages = {1: dsn(sent.message_id, status="5.1.1")}

    call_command("mail", "bounce-poll", "--json")
    settings.LEADLOOP_BOUNCE_IMAP = {**settings.LEADLOOP_BOUNCE_IMAP, "host": ""}
    with pytest.raises(CommandError, match="No bounce mailbox is set"):
        call_command("mail", "bounce-poll")

    assert json.loads(capsys.readouterr().out) == {"stored": 1}
    assert DeliveryReport.objects.get().kind == ReportKind.HARD_BOUNCE
