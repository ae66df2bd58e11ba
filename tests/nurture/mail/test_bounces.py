"""Returned mail: an RFC 3464 bounce or an ARF complaint is stored raw first, matched to the
marketing mail by the Message-ID it quotes, and a hard bounce or complaint suppresses the
address; a soft bounce only is kept. No real samples are in shared/data, so these are built
after the RFCs' own examples."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import DeliveryReport, ReportKind, Suppression, SuppressionReason
from tests.nurture.mail.returned import arf as _arf
from tests.nurture.mail.returned import dsn as _dsn

pytestmark = pytest.mark.django_db


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


def test_the_same_returned_mail_twice_is_stored_and_read_once(sent):
    raw = _dsn(sent.message_id, status="5.1.1")

    first = mail.record_bounce(raw)
    again = mail.record_bounce(raw)

    assert again.pk == first.pk
    assert DeliveryReport.objects.count() == 1
    assert Suppression.objects.count() == 1


def test_a_mail_over_the_size_limit_is_kept_whole_with_its_error_and_not_read(sent, settings):
    settings.LEADLOOP_BOUNCE_MAX_BYTES = 1000
    raw = _dsn(sent.message_id, status="5.1.1", text="x" * 2000)

    report = mail.record_bounce(raw)

    assert bytes(report.raw) == raw
    assert report.error == f"Not read: {len(raw)} bytes, over the limit of 1000."
    assert (report.kind, report.processed_at, report.state) == ("", None, "unreadable")
    assert not Suppression.objects.exists()
    assert mail.read_waiting_reports() == 0  # the sweep leaves it for a person


def test_reading_again_after_the_limit_was_raised_reads_it(sent, settings, marketing):
    settings.LEADLOOP_BOUNCE_MAX_BYTES = 1000
    report = mail.record_bounce(_dsn(sent.message_id, status="5.1.1", text="x" * 2000))
    settings.LEADLOOP_BOUNCE_MAX_BYTES = 100_000

    report = mail.read_again(report, by=marketing)

    assert (report.kind, report.error, report.state) == (ReportKind.HARD_BOUNCE, "", "read")
    assert Suppression.objects.get().email == "ann@smit.example"


def test_a_rep_may_not_read_a_returned_mail_again(sent, settings, rep):
    from leadloop.errors import NotAllowed

    settings.LEADLOOP_BOUNCE_MAX_BYTES = 1000
    report = mail.record_bounce(_dsn(sent.message_id, status="5.1.1", text="x" * 2000))

    with pytest.raises(NotAllowed):
        mail.read_again(report, by=rep)

    report.refresh_from_db()
    assert report.processed_at is None
    assert not Suppression.objects.exists()


def test_the_sweep_reads_a_report_a_crash_left_stored_but_unread(sent):
    import datetime as dt

    from django.utils import timezone

    from leadloop.nurture.mail.services import bounces

    stored, _new = bounces._store(
        _dsn(sent.message_id, status="5.1.1"),
        via="imap",
        headers={},
        at=timezone.now() - dt.timedelta(minutes=5),
    )

    assert mail.read_waiting_reports() == 1

    stored.refresh_from_db()
    assert (stored.kind, stored.state) == (ReportKind.HARD_BOUNCE, "read")
    assert mail.read_waiting_reports() == 0
