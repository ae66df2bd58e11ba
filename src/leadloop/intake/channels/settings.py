"""The channel settings of a source: where its feed, FTP drop folder or mailbox is.

They live in `Source.field_mapping` beside the mapping, under the keys the pollers read:

    "feed":  {"url"}                                       (feed_ingest; it adds etag/modified)
    "ftp":   {"host", "port", "username", "directory", "tls", "passive", "sftp", "host_key"}
    "imap":  {"host", "port", "username", "folder", "ssl"}
    "email_address": "leads-acme"  (local part or whole address; the SMTP listener routes by it)
    "email_rules":   {"body_start", "body_end", "ignore_labels", "label_aliases"}

The FTP/SFTP and IMAP passwords are not among them: they are `ChannelSecret` rows, encrypted
(`intake.channel_secrets`). `channel_settings_for` says only whether one is set and when it
changed; a password left empty (or sent back masked) keeps the stored one, and
`"clear_password": true` forgets it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import regex
from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.core.secrets import is_masked
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.leads import services as leads_services
from leadloop.leads.models import ChannelKind, Source
from leadloop.leads.normalize import InvalidValue, normalize_email

SECTIONS = ("feed", "ftp", "imap", "email_address", "email_rules")
SECTIONS_BY_KIND: dict[str, tuple[str, ...]] = {
    ChannelKind.RSS: ("feed",),
    ChannelKind.FTP: ("ftp",),
    ChannelKind.EMAIL: ("email_address", "imap", "email_rules"),
}
_FIELDS = {
    "feed": ("url",),
    "ftp": (
        "host",
        "port",
        "username",
        "password",
        "directory",
        "tls",
        "passive",
        "sftp",
        "host_key",
        "clear_password",
    ),
    "imap": ("host", "port", "username", "password", "folder", "ssl", "clear_password"),
}
_BOOLEANS = {"tls", "passive", "ssl", "sftp", "clear_password"}
# Write-only keys: taken from the input, never stored in the settings nor returned.
_SECRET_INPUTS = ("password", "clear_password")
_DEFAULTS: dict[str, dict[str, Any]] = {
    "feed": {"url": ""},
    "ftp": {"host": "", "port": 21, "username": "", "directory": "/",
            "tls": False, "passive": True, "sftp": False, "host_key": ""},
    "imap": {"host": "", "port": 993, "username": "", "folder": "INBOX", "ssl": True},
}  # fmt: skip
_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")


def sections_for(source: Source) -> tuple[str, ...]:
    """Which channel settings a source's kind has (none for HTTP POST, web forms, imports)."""
    return SECTIONS_BY_KIND.get(source.kind, ())


def channel_settings_for(source: Source) -> dict[str, Any]:
    """The source's channel settings for showing or returning: defaults filled, and for a
    password only whether it is set and when it changed (`has_password`, `password_changed_at`)."""
    mapping = source.field_mapping or {}
    states = channel_secrets.secret_states(source) if _has_secret_section(source) else {}
    result: dict[str, Any] = {}
    for section in sections_for(source):
        stored = mapping.get(section)
        if section in _FIELDS:
            values = {**_DEFAULTS[section], **(stored if isinstance(stored, dict) else {})}
            values = {key: values[key] for key in _FIELDS[section] if key not in _SECRET_INPUTS}
            if section in states:
                state = states[section]
                values["has_password"] = state.is_set
                values["password_changed_at"] = (
                    state.updated_at.isoformat() if state.updated_at else None
                )
            result[section] = values
        elif section == "email_rules":
            result[section] = stored if isinstance(stored, dict) else {}
        else:
            result[section] = stored if isinstance(stored, str) else ""
    return result


def _has_secret_section(source: Source) -> bool:
    return any(s in channel_secrets.SECRET_SECTIONS for s in sections_for(source))


def set_channel_settings(source: Source, *, settings: dict[str, Any], by: Actor) -> Source:
    """Check and store a source's channel settings; the mapping keys beside them stay as they are.

    Only the sections in `settings` change. A password goes to its encrypted `ChannelSecret`,
    never into the settings; a blank or masked one keeps the stored one, `clear_password`
    forgets it. Marketing and admins only. Locks the source, so a mapping saved meanwhile is
    not lost.
    """
    if not can_manage_configuration(by):
        raise NotAllowed(_("Only marketing and admins can configure sources and campaigns."))
    allowed = sections_for(source)
    errors: dict[str, list[str]] = {}
    for section in settings:
        if section not in allowed:
            errors[section] = [_("This source's channel has no such settings.")]
    if errors:
        raise ValidationFailed(_("The channel settings are not valid."), errors=errors)
    with transaction.atomic():
        locked = Source.objects.select_for_update().get(pk=source.pk)
        mapping = dict(locked.field_mapping or {})
        cleaned: dict[str, Any] = {}
        passwords: dict[str, str | None] = {}  # section → new password, or None to clear
        for section, value in settings.items():
            stored_secret = section in channel_secrets.SECRET_SECTIONS and (
                channel_secrets.has_secret(locked, section)
            )
            cleaned[section] = _clean(
                section, value, mapping.get(section), errors, has_secret=stored_secret
            )
            if isinstance(value, dict) and section in channel_secrets.SECRET_SECTIONS:
                new = value.get("password")
                if not is_masked(new):
                    passwords[section] = str(new)
                elif value.get("clear_password") in (True, "true", "on", "1", 1):
                    passwords[section] = None
        if errors:
            raise ValidationFailed(_("The channel settings are not valid."), errors=errors)
        mapping.update(cleaned)
        locked.field_mapping = mapping
        locked.save(update_fields=["field_mapping"])
        for section, password in passwords.items():
            if password is None:
                channel_secrets.clear_channel_secret(locked, section=section, by=by)
            else:
                channel_secrets.set_channel_secret(locked, section=section, value=password, by=by)
        leads_services.audit_source(
            locked,
            by=by,
            change="channel_settings",
            sections=sorted(cleaned),
            passwords_set=sorted(s for s, p in passwords.items() if p is not None),
            passwords_cleared=sorted(s for s, p in passwords.items() if p is None),
        )
    source.field_mapping = mapping
    return source


# A stored password is tied to these; changing any of them means typing it again.
_BOUND_TO = ("host", "port", "username", "tls", "ssl", "sftp")


def _clean(
    section: str,
    value: Any,
    stored: Any,
    errors: dict[str, list[str]],
    *,
    has_secret: bool = False,
) -> Any:
    if section == "email_address":
        return _clean_address(value, errors)
    if section == "email_rules":
        return _clean_rules(value, errors)
    if not isinstance(value, dict):
        errors[section] = [_("Give the settings as an object.")]
        return None
    # A password left in the settings by an older version is never carried forward.
    old = {k: v for k, v in (stored if isinstance(stored, dict) else {}).items() if k != "password"}
    values = {**_DEFAULTS[section], **{k: v for k, v in old.items() if k in _FIELDS[section]}}
    for key in _FIELDS[section]:
        if key not in value or key in _SECRET_INPUTS:
            continue
        raw = value[key]
        if key in _BOOLEANS:
            values[key] = raw in (True, "true", "on", "1", 1)
        elif key == "port":
            values[key] = _port(raw, f"{section}.port", errors)
        else:
            values[key] = str(raw or "").strip()
    clearing = value.get("clear_password") in (True, "true", "on", "1", 1)
    if has_secret and not clearing and is_masked(value.get("password")):
        # The stored password goes only to the server it was given for: pointing the settings
        # at another host, port, user or TLS mode without retyping it would hand it to that host.
        moved = any(values.get(k) != old.get(k, _DEFAULTS[section].get(k)) for k in _BOUND_TO)
        if moved:
            errors.setdefault(f"{section}.password", []).append(
                _("Type the password again: the server or user name changed.")
            )
    if section == "feed":
        url = values["url"]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            errors["feed.url"] = [_("Give an http:// or https:// address.")]
        # The validators of the last fetch belong to the old address.
        kept = {
            k: v for k, v in old.items() if k not in ("etag", "modified") or url == old.get("url")
        }
        return {**kept, **values}
    if section == "ftp":
        _clean_host_key(values, old, errors)
    if not values["host"]:
        errors[f"{section}.host"] = [_("Give the server's host name.")]
    elif not re.fullmatch(r"[A-Za-z0-9.\-:\[\]]+", values["host"]):
        errors[f"{section}.host"] = [_("Give a host name or an IP address, without a path.")]
    if section == "imap" and not values["username"]:
        errors["imap.username"] = [_("Give the mailbox's user name.")]
    return {**old, **values}


def _port(raw: Any, name: str, errors: dict[str, list[str]]) -> int:
    try:
        port = int(str(raw).strip())
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        errors[name] = [_("Give a port number from 1 to 65535.")]
    return port


def _clean_address(value: Any, errors: dict[str, list[str]]) -> str:
    address = str(value or "").strip()
    if not address:
        return ""
    local, at, _domain = address.rpartition("@")
    valid = (
        _LOCAL_PART.match(address) is not None
        if not at
        else _LOCAL_PART.match(local) is not None and _valid_email(address)
    )
    if not valid or len(address) > 254:
        errors["email_address"] = [
            _("Give a local part (leads-acme) or a whole address (leads-acme@example.com).")
        ]
    return address


def _valid_email(address: str) -> bool:
    try:
        normalize_email(address)
    except InvalidValue:
        return False
    return True


def _clean_rules(value: Any, errors: dict[str, list[str]]) -> dict[str, Any]:
    if not isinstance(value, dict):
        errors["email_rules"] = [_("Give the rules as an object.")]
        return {}
    rules: dict[str, Any] = {}
    for key in ("body_start", "body_end"):
        pattern = str(value.get(key) or "")
        if not pattern:
            continue
        try:
            regex.compile(pattern)  # the module the e-mail parser runs rules with
        except regex.error as exc:
            errors[f"email_rules.{key}"] = [
                _("Not a valid regular expression: %(reason)s") % {"reason": exc}
            ]
        rules[key] = pattern
    labels = value.get("ignore_labels") or []
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        errors["email_rules.ignore_labels"] = [_("Give a list of labels.")]
    elif labels:
        rules["ignore_labels"] = [x.strip() for x in labels if x.strip()]
    aliases = value.get("label_aliases") or {}
    if not isinstance(aliases, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in aliases.items()
    ):
        errors["email_rules.label_aliases"] = [_("Give pairs of label and new label.")]
    elif aliases:
        rules["label_aliases"] = {k.strip(): v.strip() for k, v in aliases.items() if k.strip()}
    return rules


# --- Test connection -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    """What a "test connection" found; nothing is imported or moved."""

    ok: bool
    message: str


def check_connection(source: Source, *, by: Actor) -> ConnectionCheck:
    """Reach the source's feed, FTP folder or mailbox with its stored settings, read-only."""
    if not can_manage_configuration(by):
        raise NotAllowed(_("Only marketing and admins can configure sources and campaigns."))
    mapping = source.field_mapping or {}
    try:
        if source.kind == ChannelKind.RSS:
            return _check_feed(mapping.get("feed") or {})
        if source.kind == ChannelKind.FTP:
            return _check_ftp(channel_secrets.connection_settings(source, "ftp"))
        if source.kind == ChannelKind.EMAIL:
            return _check_imap(channel_secrets.connection_settings(source, "imap"))
    except Exception as exc:  # any failure is the answer to show, not a crash
        return ConnectionCheck(
            False, _("Failed: %(reason)s") % {"reason": str(exc) or type(exc).__name__}
        )
    return ConnectionCheck(False, _("This channel has no connection to test."))


def _check_feed(config: dict[str, Any]) -> ConnectionCheck:
    from leadloop.intake.channels.feeds.ingest import fetch_feed
    from leadloop.intake.channels.feeds.parser import parse_feed

    if not config.get("url"):
        return ConnectionCheck(False, _("No feed address is set."))
    fetched = fetch_feed(config["url"])
    entries = parse_feed(fetched.body, rules=config.get("rules") or None)
    return ConnectionCheck(
        True, _("The feed was read: %(count)d entries.") % {"count": len(entries)}
    )


def _clean_host_key(values: dict[str, Any], old: dict[str, Any], errors: Any) -> None:
    """An SFTP host key is an OpenSSH public key line; it belongs to one host and port."""
    import asyncssh

    key = values.get("host_key") or ""
    if (
        key
        and key == old.get("host_key")
        and (values.get("host") != old.get("host") or values.get("port") != old.get("port"))
    ):
        values["host_key"] = ""  # the old server's key: learn the new one at the next poll
    elif key:
        try:
            asyncssh.import_public_key(key)
        except (asyncssh.KeyImportError, ValueError):
            errors["ftp.host_key"] = [
                _("Paste the server's public key line, like: ssh-ed25519 AAAA…")
            ]


def _check_ftp(config: dict[str, Any]) -> ConnectionCheck:
    from leadloop.intake.channels.ftp.client import list_new_files, server_host_key

    if not config.get("host"):
        return ConnectionCheck(False, _("No FTP server is set."))
    learned = ""
    if config.get("sftp") and not config.get("host_key"):
        learned = server_host_key(config)
        config = {**config, "host_key": learned}
    files = list_new_files(config, settle_seconds=0, wait=lambda _s: None)
    message = _("Connected: %(count)d files waiting in the folder.") % {"count": len(files)}
    if learned:
        message += " " + _(
            "The server's host key (%(key)s) will be trusted from the first poll on."
        ) % {"key": learned}
    return ConnectionCheck(True, message)


def _check_imap(config: dict[str, Any]) -> ConnectionCheck:
    from imapclient import IMAPClient

    if not (config.get("host") and config.get("username") and config.get("password")):
        return ConnectionCheck(False, _("The mailbox's host, user name or password is missing."))
    use_ssl = bool(config.get("ssl", True))
    port = int(config.get("port") or (993 if use_ssl else 143))
    try:
        refuse_private_host(config["host"])
    except PrivateHostError as exc:
        return ConnectionCheck(False, str(exc))
    with IMAPClient(config["host"], port=port, ssl=use_ssl, timeout=20) as client:
        client.login(config["username"], config["password"])
        folder = client.select_folder(config.get("folder") or "INBOX", readonly=True)
        count = int(folder.get(b"EXISTS", 0))
    return ConnectionCheck(
        True, _("Logged in: %(count)d messages in the folder.") % {"count": count}
    )
