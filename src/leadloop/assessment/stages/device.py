"""Stage: device intelligence. Where the lead really came from and with what.

The client IP is the one the intake stored (REMOTE_ADDR, or the first untrusted X-Forwarded-For
hop behind LEADLOOP_TRUSTED_PROXIES: see core/client_ip.py). Its country comes from iptocc's
offline table, its network (ASN) name from geoip2fast's offline ASN file; a hosting network's
name marks a datacenter address. No maintained offline list of Tor exits, VPNs or open proxies
exists among our packages, so those stay "unknown" and the page says so.

Device signals are risk evidence only: they never make two people one lead.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
from functools import lru_cache
from typing import Any

import iptocc
import phonenumbers
from crawlerdetect import CrawlerDetect
from django.utils.translation import gettext_noop
from ua_parser import parse as parse_user_agent

from leadloop.assessment.context import Context, DeviceReport
from leadloop.assessment.findings import Finding, finding
from leadloop.assessment.neighbours import neighbours
from leadloop.assessment.stages.base import stage
from leadloop.leads.normalize import parse_e164

STAGE = "device"
logger = logging.getLogger(__name__)

# Words in the names of networks that host servers rather than people (ASN names as geoip2fast
# ships them). A person on a VPN often shows up here too.
HOSTING_WORDS = (
    "amazon",
    "aws",
    "google cloud",
    "microsoft",
    "azure",
    "digitalocean",
    "ovh",
    "hetzner",
    "linode",
    "akamai",
    "vultr",
    "choopa",
    "leaseweb",
    "contabo",
    "scaleway",
    "online s.a.s",
    "hostinger",
    "hosting",
    "datacenter",
    "data center",
    "server",
    "cloud",
    "colocation",
    "m247",
    "oracle",
    "alibaba",
    "tencent",
)
# A fingerprint shared by more leads than this is reported (shared office PCs are normal).
SHARED_FINGERPRINT = 3


@stage(STAGE, lead_reads=("country", "phone_e164", "email"))
def inspect_device(ctx: Context) -> tuple[list[Finding], DeviceReport]:
    """IP, country, network, browser, bot and headless signals, and the shared fingerprint."""
    meta = ctx.meta
    found: list[Finding] = []
    device: dict[str, Any] = {}
    ip = _public_ip(str(meta.get("ip") or ""))
    if meta.get("ip"):
        device["ip"] = str(meta["ip"])[:45]
    if ip is not None:
        device["ip_public"] = True
        country = iptocc.country_code(ip) or ""
        device["ip_country"] = country
        network = _asn_name(ip)
        if network:
            device["network"] = network
            if any(word in network.lower() for word in HOSTING_WORDS):
                device["datacenter"] = network
        if country:
            found.append(
                finding(
                    STAGE,
                    "ip_country",
                    gettext_noop("IP address in %(country)s."),
                    country=country,
                    ip=ip,
                )
            )
        _mismatch(ctx, device, found)
    elif meta.get("ip"):
        found.append(
            finding(
                STAGE,
                "ip_private",
                gettext_noop("IP address %(ip)s is private or reserved."),
                ip=device["ip"],
            )
        )
    device["tor"] = None  # unknown: no offline data (see the module docstring)
    device["vpn"] = None
    agent = str(meta.get("user_agent") or "")
    if agent:
        device.update(_browser(agent[:500]))
        if device.get("is_bot"):
            found.append(
                finding(STAGE, "bot", gettext_noop("Bot user agent: %(bot)s."), bot=device["bot"])
            )
        else:
            found.append(
                finding(
                    STAGE,
                    "browser",
                    gettext_noop("%(browser)s on %(os)s (%(kind)s)."),
                    browser=device["browser"],
                    os=device["os"],
                    kind=device["kind"],
                )
            )
    headless = _headless_signals(meta.get("headless"), agent)
    if headless:
        device["headless"] = headless
    fingerprint = str(meta.get("fingerprint") or "")[:128]
    if fingerprint:
        device["fingerprint"] = fingerprint
        shared = neighbours(ctx, device).device_ever
        device["fingerprint_shared_by"] = shared
        if shared >= SHARED_FINGERPRINT:
            found.append(
                finding(
                    STAGE,
                    "shared_fingerprint",
                    gettext_noop("%(count)d other leads came from this device."),
                    count=shared,
                )
            )
    return found, DeviceReport(device)


def _public_ip(raw: str) -> str | None:
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if not address.is_global:
        return None
    return str(address)


def _mismatch(ctx: Context, device: dict[str, Any], found: list[Finding]) -> None:
    ip_country = device.get("ip_country")
    if not ip_country:
        return
    others = []
    if ctx.lead.country and ctx.lead.country != ip_country:
        others.append(f"address country {ctx.lead.country}")
    if ctx.lead.phone_e164:
        number = parse_e164(ctx.lead.phone_e164)
        region = phonenumbers.region_code_for_number(number) if number is not None else None
        if region and region not in (ip_country, "001") and region != ctx.lead.country:
            others.append(f"phone country {region}")
    if others:
        device["country_mismatch"] = {"ip": ip_country, "other": ", ".join(others)}
        found.append(
            finding(
                STAGE,
                "country_mismatch",
                gettext_noop("IP country %(ip)s, %(other)s."),
                ip=ip_country,
                other=", ".join(others),
            )
        )


_asn_lock = threading.Lock()
_asn_db: Any = None


def _asn_name(ip: str) -> str:
    """The network's (ASN) name from geoip2fast's offline file, loaded once (~0.25 s)."""
    global _asn_db
    if _asn_db is None:
        with _asn_lock:
            if _asn_db is None:
                from geoip2fast import GeoIP2Fast

                _asn_db = GeoIP2Fast(geoip2fast_data_file="geoip2fast-asn.dat.gz")
    try:
        return str(getattr(_asn_db.lookup(ip), "asn_name", "") or "")
    except Exception:  # the library's own errors vary by version
        logger.warning("ASN lookup failed ip=%s", ip)
        return ""


_crawlers = CrawlerDetect()


@lru_cache(maxsize=2048)
def _browser(agent: str) -> dict[str, Any]:
    # CrawlerDetect keeps its last matches on the instance; the cache makes one call per agent.
    if _crawlers.isCrawler(agent):
        matches = _crawlers.getMatches()
        bot = matches if isinstance(matches, str) else ", ".join(map(str, matches or []))
        return {"is_bot": True, "bot": bot or "crawler"}
    parsed = parse_user_agent(agent)
    browser = parsed.user_agent.family if parsed.user_agent else "unknown"
    os = parsed.os.family if parsed.os else "unknown"
    device = parsed.device.family if parsed.device else ""
    lowered = agent.lower()
    kind = "mobile" if "mobile" in lowered or device in ("iPhone", "iPad") else "desktop"
    return {"is_bot": False, "browser": browser, "os": os, "kind": kind}


def _headless_signals(reported: Any, agent: str) -> list[str]:
    signals = []
    if isinstance(reported, dict):
        if reported.get("webdriver"):
            signals.append("navigator.webdriver")
        if reported.get("headless_user_agent"):
            signals.append("headless user agent")
        if reported.get("plugins") == 0 and reported.get("languages") == 0:
            signals.append("no plugins and no languages")
    elif "headless" in agent.lower():
        signals.append("headless user agent")
    return signals
