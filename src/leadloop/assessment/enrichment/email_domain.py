"""Company domain and organisation from a business e-mail.

Which domains are free-mail or throwaway is decided in `assessment.emails`, shared with the
verify stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.db import connection
from django.utils.translation import gettext_noop

from leadloop.assessment.context import RESULT_FIELDS, Context
from leadloop.assessment.emails import domain_suffixes, is_disposable, is_free_mail
from leadloop.assessment.enrichment.base import _finding, fill, note
from leadloop.assessment.findings import Finding
from leadloop.leads.models import Organization


def company_domain(email: str) -> str:
    """The domain of a business address; "" for free-mail, disposable or malformed addresses."""
    local, at, domain = email.rpartition("@")
    domain = domain.strip().rstrip(".").lower()
    if not (at and local and "." in domain) or len(domain) > 253:
        return ""
    if is_free_mail(domain) or is_disposable(domain):
        return ""
    return domain


@dataclass(frozen=True)
class OrgMatch:
    ids: tuple[int, ...]
    name: str
    domain: str


# Domain → organisations using it. Cleared with every new assessment-rules snapshot (every few
# seconds, and at once in tests), so a new or deleted organisation is seen within that time.
_org_cache: dict[str, OrgMatch | None] = {}
_org_cache_owner: list[object] = [None]
ORG_CACHE_SIZE = 20_000


MAX_DOMAIN_LEVELS = 5


@cache
def _organization_sql(count: int) -> str:
    # The ORM compiled this query anew for every lead: ~0.5 ms of the stage's budget, measured
    # (bench/enrich_cost.py). Its SQL is made once per number of candidate domains.
    stand_ins = [f"\x00{i}" for i in range(count)]  # distinct: __in drops repeated values
    query = Organization.objects.filter(domain__in=stand_ins).values_list("pk", "name", "domain")
    sql, _params = query[:20].query.sql_with_params()
    return str(sql)


def _organization_for(domain: str, snapshot: object) -> OrgMatch | None:
    if _org_cache_owner[0] is not snapshot:
        _org_cache.clear()
        _org_cache_owner[0] = snapshot
    try:
        return _org_cache[domain]
    except KeyError:
        pass
    candidates = domain_suffixes(domain)[:MAX_DOMAIN_LEVELS]
    with connection.cursor() as cursor:
        cursor.execute(_organization_sql(len(candidates)), candidates)
        rows = cursor.fetchall()
    match = None
    for candidate in candidates:  # the most specific domain that an organisation uses
        hits = [row for row in rows if row[2] == candidate]
        if hits:
            match = OrgMatch(tuple(sorted(r[0] for r in hits)), hits[0][1], candidate)
            break
    if len(_org_cache) >= ORG_CACHE_SIZE:
        _org_cache.clear()
    _org_cache[domain] = match
    return match


@cache
def _reassessment_keeps_org() -> bool:
    # A reassessment writes back only RESULT_FIELDS; an organisation it cannot store must not be
    # reported as appended.
    return bool({"organization", "organization_id"} & set(RESULT_FIELDS))


class EmailDomainProvider:
    name = "email_domain"

    def append(self, ctx: Context) -> list[Finding]:
        lead = ctx.lead
        domain = company_domain(lead.email or "")
        if not domain:
            return []
        note(ctx, "company_domain", domain, provider=self.name)
        if lead.organization_id is not None or not (ctx.is_new or _reassessment_keeps_org()):
            return []
        match = _organization_for(domain, ctx.rules)
        if match is None:
            return [
                _finding(
                    "company_domain",
                    gettext_noop("Company domain %(domain)s; no organisation uses it yet"),
                    domain=domain,
                )
            ]
        if len(match.ids) > 1:
            return [
                _finding(
                    "organization_ambiguous",
                    gettext_noop("%(count)s organisations use the domain %(domain)s; none chosen"),
                    count=len(match.ids),
                    domain=domain,
                )
            ]
        fill(ctx, "organization_id", match.ids[0], provider=self.name, name=match.name)
        fill(ctx, "company_name", match.name[:255], provider=self.name)
        return [
            _finding(
                "organization_matched",
                gettext_noop("E-mail domain %(domain)s belongs to organisation %(name)s"),
                domain=domain,
                name=match.name,
                organization_id=match.ids[0],
            )
        ]
