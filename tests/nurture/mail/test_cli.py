"""`leadloop mail test ADDRESS` sends a test mail with the configured SMTP settings, and exits
non-zero with a clear message when there are none or the server refuses."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command


def test_a_test_mail_reaches_the_server(inbox, capsys):
    call_command("mail", "test", "ops@acme.example")

    [received] = inbox.messages
    assert received["To"] == "ops@acme.example"
    assert "Test mail sent to ops@acme.example" in capsys.readouterr().out


def test_without_smtp_settings_the_command_fails_with_the_setting_to_set(settings):
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": ""}

    with pytest.raises(CommandError, match="LEADLOOP_SMTP_HOST"):
        call_command("mail", "test", "ops@acme.example")


def test_a_refusing_server_makes_the_command_fail_with_its_answer(inbox):
    inbox.answer = "554 5.7.1 Relaying denied"

    with pytest.raises(CommandError, match="554"):
        call_command("mail", "test", "ops@acme.example")

    assert inbox.messages == []
