"""Returned mail as receiving servers send it: an RFC 3464 bounce and an RFC 5965 (ARF) spam
complaint, built after the RFCs' own examples (no real samples are in shared/data)."""

from __future__ import annotations


def dsn(
    message_id: str,
    *,
    status: str,
    recipient: str = "ann@smit.example",
    diagnostic: str = "550 5.1.1 <ann@smit.example>: Recipient address rejected",
    text: str = "I'm sorry to have to inform you that your message could not be delivered.",
) -> bytes:
    return (
        "From: MAILER-DAEMON@mx.smit.example\r\n"
        "To: news@acme.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B1"\r\n'
        "\r\n"
        "--B1\r\n"
        "Content-Type: text/plain\r\n\r\n"
        f"{text}\r\n"
        "--B1\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.smit.example\r\n"
        "Arrival-Date: Mon, 2 Mar 2026 10:00:00 +0100\r\n"
        "\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        f"Status: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n"
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


def arf(message_id: str) -> bytes:
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
