"""Returned mail: an RFC 3464 bounce or an ARF complaint is stored raw first, matched to the
marketing mail by the Message-ID it quotes, and a hard bounce or complaint suppresses the
address; a soft bounce only is kept. No real samples are in shared/data, so these are built
after the RFCs' own examples."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import DeliveryReport, ReportKind, Suppression, SuppressionReason

pytestmark = pytest.mark.django_db


def _dsn(message_id: str, *, status: str, recipient: str = "ann@smit.example") -> bytes:
    return (
        "From: MAILER-DAEMON@mx.smit.example\r\n"
        "To: news@acme.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "I'm sorry to have to inform you that your message could not be delivered.\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.smit.example\r\n"
        "Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        f"Status: {status}\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 <ann@smit.example>: Recipient address rejected\r\n"
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n"
        "From: Acme <news@acme.example>\r\n"
        f"To: {recipient}\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: Ann, our spring offer\r\n"
        "\r\n"
        "--B1--\r\n"
    ).encode()


def _arf(message_id: str) -> bytes:
    return (
        "From: abuse@isp.example\r\n"
        "To: news@acme.example\r\n"
        "Subject: FW: Ann, our spring offer\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="B2"\r\n'
        "\r\n"
        "--B2\r\n"
        "Content-Type: text/plain\r\n\r\n"
        "This is an e-mail abuse report.\r\n"
        "--B2\r\n"
        "Content-Type: message/feedback-report\r\n\r\n"
        "Feedback-Type: abuse\r\n"
        "User-Agent: SomeGenerator/1.0\r\n"
        "Version: 1\r\n"
        "\r\n"
        "--B2\r\n"
        "Content-Type: message/rfc822\r\n\r\n"
        "From: Acme <news@acme.example>\r\n"
        "To: Ann@Smit.example\r\n"
        f"Message-ID: {message_id}\r\n"
        "Subject: Ann, our spring offer\r\n"
        "\r\n"
        "Dear Ann\r\n"
        "--B2--\r\n"
    ).encode()


@pytest.fixture
def sent(inbox, template, lead, marketing):
    message = mail.send_marketing_email(lead, template, by=marketing)
    mail.send_waiting()
    return message


def test_a_hard_bounce_is_kept_raw_matched_and_suppresses_the_address(sent):
    raw = _dsn(sent.message_id, status="5.1.1")

    report = mail.record_bounce(raw)

    assert bytes(DeliveryReport.objects.get().raw) == raw
    assert (report.kind, report.status, report.email, report.message_id) == (
        ReportKind.HARD_BOUNCE,
        "5.1.1",
        "ann@smit.example",
        sent.pk,
    )
    entry = Suppression.objects.get()
    assert (entry.email, entry.reason, entry.message_id) == (
        "ann@smit.example",
        SuppressionReason.HARD_BOUNCE,
        sent.pk,
    )


def test_a_soft_bounce_is_kept_but_suppresses_nothing(sent):
    report = mail.record_bounce(_dsn(sent.message_id, status="4.2.2"))

    assert (report.kind, report.message_id) == (ReportKind.SOFT_BOUNCE, sent.pk)
    assert not Suppression.objects.exists()


def test_a_spam_complaint_suppresses_the_address_of_the_quoted_mail(sent):
    report = mail.record_bounce(_arf(sent.message_id))

    assert (report.kind, report.email, report.message_id) == (
        ReportKind.COMPLAINT,
        "ann@smit.example",
        sent.pk,
    )
    assert Suppression.objects.get().reason == SuppressionReason.COMPLAINT


def test_mail_that_is_no_report_is_kept_and_changes_nothing(db):
    raw = b"From: someone@example.com\r\nSubject: hello\r\n\r\nJust a reply.\r\n"

    report = mail.record_bounce(raw)

    assert (report.kind, bytes(report.raw)) == (ReportKind.UNKNOWN, raw)
    assert report.processed_at is not None
    assert not Suppression.objects.exists()


def test_the_command_reads_a_bounce_from_a_file(sent, tmp_path, capsys):
    path = tmp_path / "bounce.eml"
    path.write_bytes(_dsn(sent.message_id, status="5.1.1"))

    call_command("mail", "bounce", str(path))

    assert "hard_bounce 5.1.1 ann@smit.example" in capsys.readouterr().out
    assert Suppression.objects.filter(email="ann@smit.example").count() == 1
