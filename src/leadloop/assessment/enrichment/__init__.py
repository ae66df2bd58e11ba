"""Data appending: what a lead did not tell us, added from what it did, marked with its provider.

Two kinds of provider:

* Offline providers run inline in the `enrich` stage at intake, so they must cost microseconds:
  company domain and organisation from a business e-mail, country, time zone and line type from
  the phone, region from the postal code, language from the country. Tables are built at import
  or on first use and every lookup is cached.
* HTTP providers (`EnrichmentProvider` rows, configured in the UI) call a web service after the
  lead is saved, in `enrich_lead_task`: a slow provider never slows the intake. Answers are cached
  per request, the call has a time-out and a size cap, and private hosts are refused.

Every appended value is recorded as `appended[field] = {"value", "provider", "at"}` (the
context's at intake, `Lead.assessment["appended"]` once stored). A provider only fills what is
empty (an HTTP provider may be set to replace): it never overwrites what the person gave.
Keys without a lead column (`company_domain`, `time_zone`, `line_type`, `carrier`) live only in
that record.
"""

from __future__ import annotations

# One module per part (see the package's files); the names below are the package's surface.
# `carrier` is phonenumbers' module, kept here because bench/enrich_cost.py times its first
# lookup through this package.
from leadloop.assessment.emails import (
    DISPOSABLE_DOMAINS,
    FREE_MAIL_BRANDS,
    FREE_MAIL_DOMAINS,
    is_disposable,
    is_free_mail,
)
from leadloop.assessment.enrichment.base import STAGE, Provider, fill, note
from leadloop.assessment.enrichment.email_domain import (
    MAX_DOMAIN_LEVELS,
    ORG_CACHE_SIZE,
    EmailDomainProvider,
    OrgMatch,
    company_domain,
)
from leadloop.assessment.enrichment.language import LanguageProvider, language_for, main_language
from leadloop.assessment.enrichment.offline import (
    OFFLINE_PROVIDERS,
    append_offline,
    keep_earlier_appended,
)
from leadloop.assessment.enrichment.phone import (
    LINE_TYPES,
    PhoneProvider,
    carrier,
    number_from_e164,
    time_zones_of,
)
from leadloop.assessment.enrichment.postal import PostalCodeProvider, Region, region_for_postal_code
from leadloop.assessment.enrichment.web_call import (
    MAX_DEPTH,
    MAX_RESPONSE_BYTES,
    USER_AGENT,
    EnrichmentFailure,
    build_request,
    call_provider,
    fetch,
    request_hash,
)
from leadloop.assessment.enrichment.web_config import (
    MAX_HEADERS,
    MAX_MAPPINGS,
    READABLE_FIELDS,
    WRITABLE_FIELDS,
    clean_provider,
    create_provider,
    delete_provider,
    get_provider_for,
    has_active_providers,
    list_leads_missing_appendable,
    list_providers,
    provider_headers,
    rotate_provider_secrets,
    schedule_http_enrichment,
    update_provider,
)
from leadloop.assessment.enrichment.web_run import (
    MAX_TEXT,
    EnrichmentRun,
    Outcome,
    current_value,
    dig,
    enrich_stored_lead,
    extract,
    preview_enrichment,
    usable_value,
)

__all__ = [
    "DISPOSABLE_DOMAINS",
    "FREE_MAIL_BRANDS",
    "FREE_MAIL_DOMAINS",
    "LINE_TYPES",
    "MAX_DEPTH",
    "MAX_DOMAIN_LEVELS",
    "MAX_HEADERS",
    "MAX_MAPPINGS",
    "MAX_RESPONSE_BYTES",
    "MAX_TEXT",
    "OFFLINE_PROVIDERS",
    "ORG_CACHE_SIZE",
    "READABLE_FIELDS",
    "STAGE",
    "USER_AGENT",
    "WRITABLE_FIELDS",
    "EmailDomainProvider",
    "EnrichmentFailure",
    "EnrichmentRun",
    "LanguageProvider",
    "OrgMatch",
    "Outcome",
    "PhoneProvider",
    "PostalCodeProvider",
    "Provider",
    "Region",
    "append_offline",
    "build_request",
    "call_provider",
    "carrier",
    "clean_provider",
    "company_domain",
    "create_provider",
    "current_value",
    "delete_provider",
    "dig",
    "enrich_stored_lead",
    "extract",
    "fetch",
    "fill",
    "get_provider_for",
    "has_active_providers",
    "is_disposable",
    "is_free_mail",
    "keep_earlier_appended",
    "language_for",
    "list_leads_missing_appendable",
    "list_providers",
    "main_language",
    "note",
    "number_from_e164",
    "preview_enrichment",
    "provider_headers",
    "region_for_postal_code",
    "request_hash",
    "rotate_provider_secrets",
    "schedule_http_enrichment",
    "time_zones_of",
    "update_provider",
    "usable_value",
]
