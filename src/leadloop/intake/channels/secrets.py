"""The passwords sources' channels log in with: stored encrypted, shown only as "set".

A channel password is a `ChannelSecret` row (never a key in `Source.field_mapping`), encrypted
with `leadloop.core.secrets`. Pages, the API and the CLI read `secret_states` (set or not, and
when it changed); only the pollers and the "test connection" button call `connection_settings`,
which decrypts at the moment of logging in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.core import secrets
from leadloop.intake.models import ChannelSecret
from leadloop.leads.models import Source

# The channel sections whose login takes a password.
SECRET_SECTIONS = ("ftp", "imap")
PASSWORD = "password"  # noqa: S105 (a key name, not a secret)


@dataclass(frozen=True)
class SecretState:
    """What may be shown about a stored secret: whether it is set, and when it last changed."""

    is_set: bool
    updated_at: Any = None  # datetime | None


def set_channel_secret(
    source: Source, *, section: str, value: str, by: Actor, name: str = PASSWORD
) -> ChannelSecret:
    """Store (or replace) a channel's password, encrypted with the first key."""
    require(by, Permission.CONFIGURE_SOURCES)
    row, _created = ChannelSecret.objects.update_or_create(
        source=source,
        section=section,
        name=name,
        defaults={
            "value_encrypted": secrets.encrypt(value),
            "updated_at": timezone.now(),
            "updated_by": by if isinstance(by, User) else None,
        },
    )
    return row


def clear_channel_secret(source: Source, *, section: str, by: Actor, name: str = PASSWORD) -> bool:
    """Forget a channel's password; True when one was stored."""
    require(by, Permission.CONFIGURE_SOURCES)
    deleted, _rows = ChannelSecret.objects.filter(
        source=source, section=section, name=name
    ).delete()
    return deleted > 0


def secret_states(source: Source) -> dict[str, SecretState]:
    """Per section ("ftp", "imap"): whether its password is set and when it changed; no values."""
    rows = ChannelSecret.objects.filter(source=source, name=PASSWORD).values_list(
        "section", "updated_at"
    )
    found = dict(rows)
    return {
        section: SecretState(is_set=section in found, updated_at=found.get(section))
        for section in SECRET_SECTIONS
    }


def has_secret(source: Source, section: str) -> bool:
    """Whether the section's password is stored."""
    return ChannelSecret.objects.filter(source=source, section=section, name=PASSWORD).exists()


def connection_settings(source: Source, section: str) -> dict[str, Any]:
    """The section's settings with its password decrypted, for logging in right now.

    For the pollers and "test connection" only: the result must never be shown, returned or
    logged. SecretsKeyError when the configured keys cannot open the stored password.
    """
    stored = (source.field_mapping or {}).get(section)
    config = dict(stored) if isinstance(stored, dict) else {}
    config.pop(PASSWORD, None)
    row = (
        ChannelSecret.objects.filter(source=source, section=section, name=PASSWORD)
        .only("value_encrypted")
        .first()
    )
    if row is not None:
        config[PASSWORD] = secrets.decrypt(row.value_encrypted)
    return config


def list_stored_secrets() -> list[dict[str, Any]]:
    """Every stored channel password as source, section, name and change date (no values).

    For the operator's CLI (`leadloop secrets list`), which runs as the system.
    """
    rows = ChannelSecret.objects.select_related("source").order_by("source__name", "section")
    return [
        {
            "source_id": row.source_id,
            "source": row.source.name,
            "section": row.section,
            "name": row.name,
            "is_set": True,
            "updated_at": row.updated_at,
        }
        for row in rows
    ]


@transaction.atomic
def rotate_channel_secrets() -> int:
    """Re-encrypt every channel secret with the first key; returns how many rows were rewritten.

    Run after putting a new key in front of LEADLOOP_SECRETS_KEYS; the old key can go once this
    has finished. Raises SecretsKeyError (and rewrites nothing) when a row cannot be read.
    """
    count = 0
    for row in ChannelSecret.objects.select_for_update().order_by("pk"):
        ChannelSecret.objects.filter(pk=row.pk).update(
            value_encrypted=secrets.reencrypt(row.value_encrypted)
        )
        count += 1
    return count
