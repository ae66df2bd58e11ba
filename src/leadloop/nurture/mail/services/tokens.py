"""The signed tokens in a marketing mail's links: unsubscribe, open pixel and click.

A token carries the message's random `key` (never a lead or message id), signed with the
project's SECRET_KEY and a salt per purpose, so a click token does not open the unsubscribe
page and a changed character fails the signature before any database lookup.
"""

from __future__ import annotations

from django.core import signing

_SALT = "leadloop.nurture.mail."


def _signer(purpose: str) -> signing.Signer:
    return signing.Signer(salt=_SALT + purpose)


def unsubscribe_token(key: str) -> str:
    return _signer("unsubscribe").sign(key)


def open_token(key: str) -> str:
    return _signer("open").sign(key)


def click_token(key: str, index: int) -> str:
    return _signer("click").sign(f"{key}.{index}")


def read_unsubscribe_token(token: str) -> str | None:
    """The message key in an unsubscribe token, None when it was tampered with."""
    return _read("unsubscribe", token)


def read_open_token(token: str) -> str | None:
    return _read("open", token)


def read_click_token(token: str) -> tuple[str, int] | None:
    """The message key and the link's index, None when tampered with."""
    value = _read("click", token)
    if value is None:
        return None
    key, _sep, index = value.rpartition(".")
    if not key or not index.isdigit() or len(index) > 4:
        return None
    return key, int(index)


def _read(purpose: str, token: str) -> str | None:
    if len(token) > 200:
        return None
    try:
        return _signer(purpose).unsign(token)
    except signing.BadSignature:
        return None
