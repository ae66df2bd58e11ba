"""Stage: fraud screening. Weighted rules summed into a fraud score 0–100 with its reasons.

The source's policy turns the score into accept, review (the lead is held for a person) or
reject (the submission is refused, its reasons kept in the review queue). Weights are data:
marketing changes them in the scoring settings (0 switches a rule off).
"""

from __future__ import annotations

import re
from functools import lru_cache

import idna
from django.utils.translation import gettext_noop

from leadloop.assessment.context import (
    Context,
    DeviceReport,
    FraudResult,
    Verdict,
    Verification,
)
from leadloop.assessment.findings import Finding, finding
from leadloop.assessment.neighbours import neighbours
from leadloop.assessment.stages.base import stage
from leadloop.leads.models import Lead

STAGE = "fraud"

# code → (default weight, what it means). The descriptions are shown beside the weights.
RULE_WEIGHTS: dict[str, tuple[int, str]] = {
    "blocklist": (80, gettext_noop("A value is on the blocklist (domain, address, IP, phone).")),
    "honeypot": (60, gettext_noop("The hidden trap field of the form was filled in.")),
    "bot_user_agent": (40, gettext_noop("The browser says it is a bot or crawler.")),
    "too_fast": (40, gettext_noop("The form was sent faster than a person can fill it in.")),
    "headless_browser": (35, gettext_noop("The form script saw an automated (headless) browser.")),
    "test_data": (35, gettext_noop("Test values such as 'test', 'asdf' or 0612345678.")),
    "disposable_email": (30, gettext_noop("The e-mail address is from a throwaway provider.")),
    "gibberish_name": (25, gettext_noop("The name looks like keyboard mashing.")),
    "velocity_ip": (25, gettext_noop("Many leads from the same IP address in a short time.")),
    "velocity_device": (25, gettext_noop("Many leads from the same device in a short time.")),
    "velocity_email": (15, gettext_noop("The same e-mail address many times in a short time.")),
    "velocity_phone": (15, gettext_noop("The same phone number many times in a short time.")),
    "country_mismatch": (15, gettext_noop("The IP country differs from the phone or address.")),
    "datacenter_ip": (15, gettext_noop("The IP address belongs to a hosting provider.")),
}

TOO_FAST_MS = 3000

_KEYBOARD_RUNS = (
    "qwert",
    "werty",
    "asdf",
    "sdfg",
    "zxcv",
    "xcvb",
    "hjkl",
    "yxcv",
    "azerty",
    "uiop",
)
_TEST_WORDS = frozenset(
    {"test", "tester", "testing", "asdf", "qwerty", "foo", "bar", "foobar", "xxx", "abc", "dummy"}
)
_TEST_DOMAINS = frozenset(
    {"example.com", "example.org", "example.net", "test.com", "test.nl", "mailinator.com"}
)
_TEST_PHONES = frozenset({"+31612345678", "+31123456789", "+31201234567", "+15555555555"})
_REPEATED = re.compile(r"(.)\1\1")
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")
_DIGIT = re.compile(r"\d")


def weight(ctx: Context, code: str) -> int:
    configured = (ctx.settings.fraud_weights or {}).get(code)
    if isinstance(configured, int) and 0 <= configured <= 100:
        return configured
    return RULE_WEIGHTS[code][0]


_NO_DEVICE = DeviceReport({})


@stage(
    STAGE,
    reads=("verify", "device"),
    lead_reads=("email", "phone_e164", "first_name", "last_name", "company_name"),
)
def screen_fraud(
    ctx: Context, *, verify: Verification | None, device: DeviceReport | None
) -> tuple[list[Finding], FraudResult]:
    """Every rule that fires adds its weight; the sum (at most 100) is the fraud score.

    Without a device report (that stage failed) the device signals are not judged."""
    found: list[Finding] = []
    device = device or _NO_DEVICE

    def hit(code: str, template: str, **data: object) -> None:
        points = weight(ctx, code)
        if points:
            found.append(finding(STAGE, code, template, points, **data))

    lead, meta = ctx.lead, ctx.meta
    _blocklist(ctx, device, hit)
    if meta.get("honeypot_filled"):
        hit("honeypot", gettext_noop("The hidden trap field was filled in."))
    if device.get("is_bot"):
        hit("bot_user_agent", gettext_noop("User agent of a bot: %(bot)s."), bot=device["bot"])
    elapsed = meta.get("time_to_submit_ms")
    if isinstance(elapsed, int) and 0 <= elapsed < TOO_FAST_MS:
        hit("too_fast", gettext_noop("Sent %(ms)d ms after the form was shown."), ms=elapsed)
    if device.get("headless"):
        hit(
            "headless_browser",
            gettext_noop("Automated browser: %(signals)s."),
            signals=", ".join(device["headless"]),
        )
    test_values = _test_values(lead)
    if test_values:
        hit("test_data", gettext_noop("Test values: %(values)s."), values=", ".join(test_values))
    if verify is not None and verify.email_kind == "disposable":
        hit(
            "disposable_email",
            gettext_noop("Throwaway e-mail domain %(domain)s."),
            domain=lead.email.rpartition("@")[2],
        )
    mashed = [name for name in (lead.first_name, lead.last_name) if looks_mashed(name)]
    if mashed:
        hit("gibberish_name", gettext_noop("Name looks mashed: %(names)s."), names=" ".join(mashed))
    _velocity(ctx, device, hit)
    mismatch = device.get("country_mismatch")
    if mismatch:
        hit(
            "country_mismatch",
            gettext_noop("IP country %(ip)s, %(other)s."),
            ip=mismatch["ip"],
            other=mismatch["other"],
        )
    if device.get("datacenter"):
        hit(
            "datacenter_ip",
            gettext_noop("IP address of %(network)s, a hosting network."),
            network=device["datacenter"],
        )
    score = min(100, sum(f.points for f in found))
    if score >= ctx.policy.fraud_reject_at:
        verdict = Verdict.REJECT
    elif score >= ctx.policy.fraud_review_at:
        verdict = Verdict.REVIEW
    else:
        verdict = Verdict.ACCEPT
    if not found:
        found.append(finding(STAGE, "clean", gettext_noop("No fraud signals.")))
    return found, FraudResult(score, verdict)


def _blocklist(ctx: Context, device: DeviceReport, hit) -> None:  # type: ignore[no-untyped-def]
    blocked = ctx.rules.blocklist
    lead = ctx.lead
    email = lead.email.lower()
    domain = _ascii_domain(email.rpartition("@")[2])
    if email and email in blocked.emails:
        hit("blocklist", gettext_noop("E-mail address %(value)s is blocked."), value=email)
    elif domain and domain in blocked.email_domains:
        hit("blocklist", gettext_noop("E-mail domain %(value)s is blocked."), value=domain)
    elif lead.phone_e164 and lead.phone_e164 in blocked.phones:
        hit("blocklist", gettext_noop("Phone number %(value)s is blocked."), value=lead.phone_e164)
    elif device.get("ip") and blocked.ip_blocked(device["ip"]):
        hit("blocklist", gettext_noop("IP address %(value)s is blocked."), value=device["ip"])


@lru_cache(maxsize=4096)
def _ascii_domain(domain: str) -> str:
    """The domain as the blocklist stores it: bücher.de → xn--bcher-kva.de"""
    try:
        return idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError:
        return domain


def _velocity(ctx: Context, device: DeviceReport, hit) -> None:  # type: ignore[no-untyped-def]
    """Leads with the same IP, device, e-mail or phone within the window (this one included)."""
    limit = ctx.settings.velocity_limit
    minutes = ctx.settings.velocity_window_minutes
    counts = neighbours(ctx, device.data)
    checks = (
        ("velocity_ip", "client ip", device.get("ip"), counts.ip),
        ("velocity_device", "device fingerprint", device.get("fingerprint"), counts.device),
        ("velocity_email", "email", ctx.lead.email, counts.email),
        ("velocity_phone", "phone e164", ctx.lead.phone_e164, counts.phone),
    )
    for code, what, value, others in checks:
        if value and others + 1 > limit:
            hit(
                code,
                gettext_noop("%(count)d leads with %(what)s %(value)s within %(minutes)d minutes."),
                count=others + 1,
                what=what,
                value=str(value),
                minutes=minutes,
            )


def _test_values(lead: Lead) -> list[str]:
    values = []
    for name in (lead.first_name, lead.last_name, lead.company_name):
        if name.strip().lower() in _TEST_WORDS:
            values.append(name.strip())
    local, _at, domain = lead.email.lower().partition("@")
    if domain in _TEST_DOMAINS or local in _TEST_WORDS:
        values.append(lead.email)
    if lead.phone_e164 in _TEST_PHONES or _all_same_digits(lead.phone_e164):
        values.append(lead.phone_e164)
    return values


def _all_same_digits(phone: str) -> bool:
    digits = phone[-7:]
    return len(digits) == 7 and len(set(digits)) == 1


@lru_cache(maxsize=4096)
def looks_mashed(name: str) -> bool:
    """A name typed by hitting keys: keyboard runs, triple letters, no vowels, five consonants in
    a row, or digits. Only judged for Latin letters (other scripts are left alone)."""
    text = name.strip().lower()
    if len(text) < 3 or not text.isascii():
        return False
    if _DIGIT.search(text) or _REPEATED.search(text):
        return True
    if any(run in text for run in _KEYBOARD_RUNS):
        return True
    letters = "".join(c for c in text if c.isalpha())
    if len(letters) >= 4 and not any(c in "aeiouy" for c in letters):
        return True
    return bool(_CONSONANT_RUN.search(letters))
