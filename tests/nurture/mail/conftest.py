"""Shared parts of the marketing e-mail tests: a real SMTP server (aiosmtpd) that can be told to
refuse, a marketing template, and a lead that may receive marketing mail."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes

import pytest
from aiosmtpd.controller import Controller

from leadloop.nurture.mail import services as mail
from tests.factories.leads import make_lead


class Inbox:
    """What the server received; `answer` is its reply to DATA ("250 OK", "451 …", "550 …")."""

    def __init__(self) -> None:
        self.messages: list = []
        self.answer = "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if not self.answer.startswith("250"):
            return self.answer
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def inbox(settings) -> Iterator[Inbox]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": "127.0.0.1", "port": port,
                              "security": "none", "timeout": 5}  # fmt: skip
    settings.LEADLOOP_MARKETING_FROM = "Acme <news@acme.example>"
    settings.LEADLOOP_BASE_URL = "https://leads.acme.example"
    yield handler
    controller.stop()


@pytest.fixture
def template(marketing):
    return mail.create_template(
        by=marketing,
        name="Spring offer",
        language="en",
        subject="{first_name}, our spring offer",
        body=(
            "Dear {first_name} of {company},\n\n"
            "Read [the offer](https://acme.example/offer?x=1&y=2) or "
            "[our blog](https://acme.example/blog).\n\n"
            "Kind regards,\n{rep_name}"
        ),
    )


@pytest.fixture
def lead(source, rep):
    return make_lead(
        source,
        assigned_to=rep,
        first_name="Ann",
        last_name="Smit",
        email="Ann@Smit.example",
        company_name="Smit BV",
        language="en",
    )


def parts(message) -> dict[str, str]:
    """The text and HTML parts of a received mail, by content type."""
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text":
            found[part.get_content_type()] = part.get_payload(decode=True).decode()
    return found
