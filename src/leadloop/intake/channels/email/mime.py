"""The parts of a lead mail as bytes and text: file names, decoded payloads, charsets."""

from __future__ import annotations

from email.message import EmailMessage

import charset_normalizer

from leadloop.intake.channels import ParseError


class EmailParseError(ParseError):
    """The message cannot be read as leads; the message says why."""


def part_filename(part: EmailMessage) -> str:
    try:
        return (part.get_filename() or "").strip().lower()
    except Exception:  # a malformed parameter is no filename
        return ""


def payload_bytes(part: EmailMessage) -> bytes:
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def decode_text(data: bytes, declared: str | None, *, trust_declared: bool) -> str:
    """Text from bytes: the declared charset (for bodies), UTF-8, or a detected charset."""
    declared = (declared or "").strip().lower()
    candidates = ["utf-8-sig"]
    if declared and declared not in ("us-ascii", "ascii", "utf-8", "utf8"):
        candidates.insert(0 if trust_declared else 1, declared)
    for charset in candidates:
        try:
            return data.decode(charset)
        except (UnicodeDecodeError, LookupError):
            continue
    matches = charset_normalizer.from_bytes(data)
    best = matches.best()
    if best is not None:
        # On short Western text the detector ties cp1252 with cp1250/cp1257 ("Å" vs "Ĺ");
        # Excel in the Netherlands and Belgium writes cp1252, so a tie goes to it.
        for match in matches:
            if (
                "cp1252" in match.could_be_from_charset
                and match.chaos <= best.chaos
                and match.coherence >= best.coherence
            ):
                return data.decode("cp1252", errors="replace")
        return str(best)
    return data.decode("cp1252", errors="replace")
