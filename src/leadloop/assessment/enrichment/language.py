"""Language from the country (and, in Belgium, from the postal code)."""

from __future__ import annotations

from functools import cache

from babel.languages import get_territory_language_info
from django.utils.translation import gettext_noop

from leadloop.assessment.context import Context
from leadloop.assessment.enrichment.base import _finding, fill
from leadloop.assessment.findings import Finding

# Belgium has three languages; its postal code says which one the region speaks (Brussels: both,
# so none is chosen). The German-speaking community lies in 4700–4799.
_BE_LANGUAGE = (
    (1000, 1299, ""),
    (1300, 1499, "fr"),
    (1500, 3999, "nl"),
    (4000, 4699, "fr"),
    (4700, 4799, "de"),
    (4800, 7999, "fr"),
    (8000, 9999, "nl"),
)


@cache
def main_language(country: str) -> str:
    """The country's language when one official language clearly dominates (CLDR population
    shares: every other official language is spoken by less than 40% as many), else ""."""
    try:
        info = get_territory_language_info(country)
    except (ValueError, KeyError, TypeError):
        return ""
    official = sorted(
        (
            (float(v.get("population_percent") or 0), lang)
            for lang, v in info.items()
            if v.get("official_status") in ("official", "de_facto_official")
        ),
        reverse=True,
    )
    if not official or not official[0][0]:
        return ""
    top, language = official[0]
    if any(share >= 0.4 * top for share, _lang in official[1:]):
        return ""
    return language if len(language) <= 8 else ""


def language_for(country: str, postal_code: str = "") -> str:
    if country == "BE":
        code = postal_code.replace(" ", "")[:4]
        if not code.isdigit():
            return ""
        number = int(code)
        return next((lang for lo, hi, lang in _BE_LANGUAGE if lo <= number <= hi), "")
    return main_language(country) if len(country) == 2 else ""


class LanguageProvider:
    name = "country_language"

    def append(self, ctx: Context) -> list[Finding]:
        lead = ctx.lead
        if lead.language or not lead.country:
            return []
        language = language_for(lead.country, lead.postal_code)
        if not fill(ctx, "language", language, provider=self.name):
            return []
        return [
            _finding(
                "language_from_country",
                gettext_noop("Language %(language)s, the main language of %(country)s"),
                language=language,
                country=lead.country,
            )
        ]
