"""Encryption of stored secrets (channel passwords, provider keys) with Fernet.

Keys come from `LEADLOOP_SECRETS_KEYS` (comma-separated Fernet keys): the first encrypts, every
one decrypts, so a key is rotated by putting a new one in front, running `leadloop secrets
rotate` (which re-encrypts every stored secret with it) and then dropping the old one. Without
the variable a laptop install gets a key file, `$LEADLOOP_VAR_DIR/secrets_key` (mode 0600), made
on first use.

Nothing here logs or returns a plaintext except `decrypt`, which the channel that logs in calls
at the moment it needs the value.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.translation import gettext as _

from leadloop.errors import LeadloopError

# Shown instead of a stored secret, everywhere.
MASK = "••••••"


def is_masked(value: object) -> bool:
    """Whether a value sent back means "keep the stored secret": empty, or only mask dots (an
    older version masked with four)."""
    text = "" if value is None else str(value).strip()
    return not text or set(text) == {"•"}


class SecretsKeyError(LeadloopError):
    """A stored secret cannot be encrypted or read with the configured keys."""

    status = 500
    title = "Secrets key missing or wrong"


def generate_key() -> str:
    """A new random Fernet key (32 bytes, URL-safe base64)."""
    return Fernet.generate_key().decode()


_file_keys: dict[str, tuple[tuple[int, int], str]] = {}


def _key_file_key(path: Path) -> str:
    """The laptop key, created with mode 0600 by whichever process gets there first. Read once
    a process while the file stays the same (one `stat` a call: every outbound call to a buyer
    decrypts its secret)."""
    try:
        seen = os.stat(path)
    except OSError:
        pass
    else:
        known = _file_keys.get(str(path))
        if known is not None and known[0] == (seen.st_ino, seen.st_mtime_ns):
            return known[1]
    key = _read_key_file(path)
    seen = os.stat(path)
    _file_keys[str(path)] = ((seen.st_ino, seen.st_mtime_ns), key)
    return key


def _read_key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(generate_key())
    return path.read_text().strip()


_cache: dict[tuple[str, ...], MultiFernet] = {}


def configured_keys() -> list[str]:
    """The keys in use, newest (the one that encrypts) first."""
    keys = list(getattr(settings, "LEADLOOP_SECRETS_KEYS", []) or [])
    if keys:
        return keys
    return [_key_file_key(Path(settings.LEADLOOP_SECRETS_KEY_FILE))]


def _fernet() -> MultiFernet:
    keys = tuple(configured_keys())
    fernet = _cache.get(keys)
    if fernet is None:
        try:
            fernet = MultiFernet([Fernet(k.encode()) for k in keys])
        except (ValueError, TypeError) as exc:
            # Do not echo the key: it would land in a log or an error page.
            raise SecretsKeyError(
                _(
                    "LEADLOOP_SECRETS_KEYS holds a value that is not a Fernet key "
                    "(32 bytes in URL-safe base64); `leadloop secrets generate-key` prints one."
                )
            ) from exc
        _cache.clear()
        _cache[keys] = fernet
    return fernet


def encrypt(plaintext: str) -> str:
    """The Fernet token of `plaintext`, made with the first key."""
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """The plaintext of a stored token; SecretsKeyError when no configured key opens it."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsKeyError(
            _(
                "A stored secret cannot be decrypted with the keys in LEADLOOP_SECRETS_KEYS: "
                "the key it was encrypted with is missing. Put that key back (after the new one), "
                "or enter the secret again."
            )
        ) from exc


def reencrypt(token: str) -> str:
    """The same secret encrypted with the first key (rotation); SecretsKeyError if unreadable."""
    try:
        return _fernet().rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise SecretsKeyError(
            _("A stored secret cannot be decrypted with the keys in LEADLOOP_SECRETS_KEYS.")
        ) from exc


# --- Settings documents ---------------------------------------------------------------------------
# A channel section of a source's settings document (`Source.field_mapping["ftp"]`, …) never holds
# a password: it is a ChannelSecret. These guard the document against one slipping back in.
SECRET_NAMES = frozenset({"password", "passwd", "secret", "api_key", "apikey", "token"})
# The mapping's own sections map incoming labels ("Password" may be a form's field name).
_MAPPING_SECTIONS = frozenset({"fields", "transforms", "value_maps", "constants"})


def secret_paths(document: object) -> list[str]:
    """The "section.key" paths of secret-named keys in a settings document's channel sections."""
    if not isinstance(document, dict):
        return []
    return [
        f"{section}.{key}"
        for section, value in document.items()
        if section not in _MAPPING_SECTIONS and isinstance(value, dict)
        for key in value
        if isinstance(key, str) and key.lower() in SECRET_NAMES
    ]


def without_secrets(document: dict[str, object]) -> dict[str, object]:
    """A copy of a settings document with the secret-named keys of its channel sections left out."""
    paths = set(secret_paths(document))
    if not paths:
        return document
    return {
        section: {k: v for k, v in value.items() if f"{section}.{k}" not in paths}
        if isinstance(value, dict) and section not in _MAPPING_SECTIONS
        else value
        for section, value in document.items()
    }
