"""Channel settings, made through the real services: passwords go to their encrypted record."""

from __future__ import annotations

from typing import Any

from leadloop.accounts.actors import Actor
from leadloop.intake import services
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.leads.models import Source


def set_channel_mapping(source: Source, *, mapping: dict[str, Any], by: Actor) -> Source:
    """Like `intake.services.set_mapping`, but a section's "password" is stored as the section's
    encrypted ChannelSecret (the mapping refuses passwords), as the channel settings page does.

    Takes raw keys the settings form does not offer (`timeout`, `max_bytes`, `settle_seconds`),
    which the tests need to keep real servers quick.
    """
    passwords: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    for section, value in mapping.items():
        if isinstance(value, dict) and "password" in value:
            value = dict(value)
            passwords[section] = str(value.pop("password") or "")
        cleaned[section] = value
    source = services.set_mapping(source, mapping=cleaned, by=by)
    for section, password in passwords.items():
        if password:
            channel_secrets.set_channel_secret(source, section=section, value=password, by=by)
        else:
            channel_secrets.clear_channel_secret(source, section=section, by=by)
    return source
