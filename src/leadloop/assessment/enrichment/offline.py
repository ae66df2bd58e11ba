"""The offline providers in their order, and running them over a lead in the `enrich` stage."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from leadloop.assessment.context import Context
from leadloop.assessment.enrichment.base import STAGE, Provider
from leadloop.assessment.enrichment.email_domain import EmailDomainProvider
from leadloop.assessment.enrichment.language import LanguageProvider
from leadloop.assessment.enrichment.phone import PhoneProvider
from leadloop.assessment.enrichment.postal import PostalCodeProvider
from leadloop.assessment.findings import Finding
from leadloop.leads.models import Lead

logger = logging.getLogger(__name__)

# The order matters: the phone may fill the country the postal code and language need.
OFFLINE_PROVIDERS: tuple[Provider, ...] = (
    EmailDomainProvider(),
    PhoneProvider(),
    PostalCodeProvider(),
    LanguageProvider(),
)


def keep_earlier_appended(ctx: Context) -> None:
    """On a reassessment, keep the record of values appended before (by any provider, HTTP
    ones too) that the lead still holds, so their origin stays visible."""
    if ctx.is_new or not ctx.lead.assessment:
        return
    earlier = ctx.lead.assessment.get("appended")
    if not isinstance(earlier, dict):
        return
    for key, entry in earlier.items():
        if not isinstance(entry, dict) or "value" not in entry:
            continue
        if key.startswith("extra."):
            current = (ctx.lead.extra or {}).get(key[6:])
        elif hasattr(Lead, key) and key not in ("assessment", "extra"):
            current = getattr(ctx.lead, key, None)
        else:
            current = entry["value"]  # no column: kept until a provider says otherwise
        if current == entry["value"]:
            ctx.appended[key] = entry


def append_offline(
    ctx: Context, providers: Iterable[Provider] = OFFLINE_PROVIDERS
) -> list[Finding]:
    """Run the offline providers over the lead in `ctx`; one that fails costs only its own
    values (its error is recorded on the context)."""
    keep_earlier_appended(ctx)
    found: list[Finding] = []
    for provider in providers:
        try:
            found.extend(provider.append(ctx))
        except Exception as exc:  # a provider bug must not cost the other providers' values
            logger.exception("enrichment provider failed provider=%s", provider.name)
            ctx.errors.append(
                {"stage": STAGE, "provider": provider.name, "error": f"{type(exc).__name__}"}
            )
    return found
