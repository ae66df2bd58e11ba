"""HTTP providers: their configuration (marketing and admins), and scheduling them for a lead."""

from __future__ import annotations

import json
import math
import re
import urllib.parse
from collections.abc import Callable, Mapping
from functools import partial
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.assessment.models import EnrichmentCacheEntry, EnrichmentProvider
from leadloop.assessment.scoring import rules
from leadloop.core import retry, secrets
from leadloop.core.network import PrivateHostError, refuse_private_host
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads.models import Lead

# Lead fields an HTTP provider may fill (identity fields such as e-mail and phone are never
# replaced by a third party), and the fields a request may send.
WRITABLE_FIELDS = (
    "first_name",
    "last_name",
    "job_title",
    "company_name",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "country",
    "language",
)
READABLE_FIELDS = (*WRITABLE_FIELDS, "email", "phone_e164", "phone_raw", "email_domain")
_EXTRA_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")
_PATH = re.compile(r"[^\s]{1,200}")
MAX_MAPPINGS = 50
MAX_HEADERS = 20


def list_providers(actor: Actor) -> QuerySet[EnrichmentProvider]:
    """Every HTTP provider, for those who configure enrichment."""
    require(actor, Permission.CONFIGURE_ENRICHMENT)
    return EnrichmentProvider.objects.all()


def get_provider_for(actor: Actor, provider_id: int) -> EnrichmentProvider:
    """One HTTP provider, for those who configure enrichment (NotFound otherwise)."""
    if not can_manage_configuration(actor):
        raise NotFound(_("No such provider."))
    provider = EnrichmentProvider.objects.filter(pk=provider_id).first()
    if provider is None:
        raise NotFound(_("No such provider."))
    return provider


def _is_target(target: Any) -> bool:
    if not isinstance(target, str):
        return False
    if target.startswith("extra."):
        return bool(_EXTRA_NAME.fullmatch(target[6:]))
    return target in WRITABLE_FIELDS


def _is_source(name: Any) -> bool:
    if not isinstance(name, str):
        return False
    if name.startswith("extra."):
        return bool(_EXTRA_NAME.fullmatch(name[6:]))
    return name in READABLE_FIELDS


def provider_headers(provider: EnrichmentProvider) -> dict[str, str]:
    """The provider's request headers with their values decrypted, for the call being made now.

    Never shown or returned: pages and the API show `header_names`. SecretsKeyError when the
    configured keys cannot open them.
    """
    if not provider.headers_encrypted:
        return {}
    headers = json.loads(secrets.decrypt(provider.headers_encrypted))
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def clean_provider(
    values: Mapping[str, Any],
    *,
    existing_id: int | None = None,
    stored_headers: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Check a provider's settings; ValidationFailed lists every problem by field.

    A header sent with the masked value (or empty) keeps its stored value: the form and the API
    show stored values masked, so sending them back unchanged must not overwrite the key.
    """
    errors: dict[str, list[str]] = {}
    out: dict[str, Any] = {}

    def fail(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    name = str(values.get("name") or "").strip()
    if not name or len(name) > 100:
        fail("name", _("Give a name of at most 100 characters."))
    elif EnrichmentProvider.objects.filter(name=name).exclude(pk=existing_id or 0).exists():
        fail("name", _("Another provider has this name."))
    out["name"] = name
    url = str(values.get("url") or "").strip()
    parts = urllib.parse.urlsplit(url) if len(url) <= 500 else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        fail("url", _("Give an http:// or https:// address of at most 500 characters."))
    else:
        try:
            refuse_private_host(parts.hostname)
        except PrivateHostError as exc:
            fail("url", str(exc))
    out["url"] = url
    method = str(values.get("method") or "GET").upper()
    if method not in ("GET", "POST"):
        fail("method", _("GET or POST."))
    out["method"] = method
    headers = values.get("headers") or {}
    if not isinstance(headers, Mapping) or len(headers) > MAX_HEADERS:
        fail("headers", _("At most %(n)d headers, each a name and a value.") % {"n": MAX_HEADERS})
        headers = {}
    kept = stored_headers or {}
    cleaned_headers: dict[str, str] = {}
    for key, value in headers.items():
        if not (isinstance(key, str) and _HEADER_NAME.fullmatch(key)) or not isinstance(value, str):
            fail("headers", _("Header %(name)s is not valid.") % {"name": str(key)[:64]})
        elif secrets.is_masked(value):
            if key in kept:
                cleaned_headers[key] = kept[key]
            else:
                fail("headers", _("Give the value of header %(name)s.") % {"name": key})
        elif "\r" in value or "\n" in value or len(value) > 2000:
            fail("headers", _("Header %(name)s has a value that is not valid.") % {"name": key})
        else:
            cleaned_headers[key] = value
    out["headers"] = cleaned_headers
    request_fields = values.get("request_fields") or {}
    if not isinstance(request_fields, Mapping) or not 0 < len(request_fields) <= MAX_MAPPINGS:
        fail("request_fields", _("Send at least one lead field."))
        request_fields = {}
    for param, source in request_fields.items():
        if not (isinstance(param, str) and 0 < len(param) <= 100) or not _is_source(source):
            fail(
                "request_fields",
                _("%(param)s = %(field)s: not a lead field that can be sent.")
                % {"param": str(param)[:100], "field": str(source)[:100]},
            )
    out["request_fields"] = dict(request_fields)
    response_fields = values.get("response_fields") or {}
    if not isinstance(response_fields, Mapping) or not 0 < len(response_fields) <= MAX_MAPPINGS:
        fail("response_fields", _("Take at least one value from the answer."))
        response_fields = {}
    for path, target in response_fields.items():
        if not (isinstance(path, str) and _PATH.fullmatch(path)) or not _is_target(target):
            fail(
                "response_fields",
                _("%(path)s = %(field)s: not a lead field that can be filled.")
                % {"path": str(path)[:100], "field": str(target)[:100]},
            )
    out["response_fields"] = dict(response_fields)
    out["timeout_seconds"] = _number(values, "timeout_seconds", 3.0, 0.1, 30.0, fail)
    out["cache_hours"] = int(_number(values, "cache_hours", 168, 0, 8760, fail))
    out["only_fill_empty"] = bool(values.get("only_fill_empty", True))
    out["is_active"] = bool(values.get("is_active", True))
    if errors:
        raise ValidationFailed(_("The provider's settings are not valid."), errors=errors)
    return out


def _number(
    values: Mapping[str, Any],
    name: str,
    default: float,
    low: float,
    high: float,
    fail: Callable[[str, str], None],
) -> float:
    raw = values.get(name, default)
    try:
        number = float(raw if raw not in (None, "") else default)
    except (TypeError, ValueError):
        number = math.nan
    if not low <= number <= high:  # also false for NaN
        fail(name, _("A number from %(low)s to %(high)s.") % {"low": low, "high": high})
        return default
    return number


@transaction.atomic
def create_provider(*, values: Mapping[str, Any], by: Actor) -> EnrichmentProvider:
    """Add an HTTP provider (marketing and admins)."""
    require(by, Permission.CONFIGURE_ENRICHMENT)
    cleaned = clean_provider(values)
    headers = cleaned.pop("headers")
    provider = EnrichmentProvider(**cleaned)
    _store_headers(provider, headers, previous={})
    provider.save()
    _audit_provider(provider, by=by, change="created")
    transaction.on_commit(rules.invalidate)  # the intake's "any provider active?" is re-read
    return provider


@transaction.atomic
def update_provider(
    provider: EnrichmentProvider, *, values: Mapping[str, Any], by: Actor
) -> EnrichmentProvider:
    """Change an HTTP provider; its cached answers are dropped, since the request may differ."""
    require(by, Permission.CONFIGURE_ENRICHMENT)
    locked = EnrichmentProvider.objects.select_for_update().get(pk=provider.pk)
    stored = provider_headers(locked)
    # The stored key goes only to the server it was given for: pointed elsewhere, a masked value
    # must be typed again, or anyone who may edit the provider could send the key to their host.
    keep = stored if _origin(values.get("url")) == _origin(locked.url) else {}
    cleaned = clean_provider(values, existing_id=locked.pk, stored_headers=keep)
    headers = cleaned.pop("headers")
    for name, value in cleaned.items():
        setattr(locked, name, value)
    _store_headers(locked, headers, previous=stored)
    locked.save()
    EnrichmentCacheEntry.objects.filter(provider=locked).delete()
    _audit_provider(locked, by=by, change="updated")
    transaction.on_commit(rules.invalidate)
    return locked


def _origin(url: Any) -> tuple[str, str, int | None] | None:
    try:
        parts = urllib.parse.urlsplit(str(url or "").strip())
        return (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port)
    except ValueError:
        return None


def _store_headers(
    provider: EnrichmentProvider, headers: dict[str, str], *, previous: Mapping[str, str]
) -> None:
    provider.header_names = sorted(headers)
    if headers == dict(previous):
        return  # unchanged: the token and its date stay
    provider.headers_encrypted = (
        secrets.encrypt(json.dumps(headers, ensure_ascii=False)) if headers else ""
    )
    provider.headers_changed_at = timezone.now()


@transaction.atomic
def rotate_provider_secrets() -> int:
    """Re-encrypt every provider's headers with the first key; returns how many were rewritten.

    SecretsKeyError (and nothing rewritten) when one cannot be read with the configured keys.
    """
    count = 0
    rows = EnrichmentProvider.objects.select_for_update().exclude(headers_encrypted="")
    for provider in rows.order_by("pk"):
        EnrichmentProvider.objects.filter(pk=provider.pk).update(
            headers_encrypted=secrets.reencrypt(provider.headers_encrypted)
        )
        count += 1
    return count


@transaction.atomic
def delete_provider(provider: EnrichmentProvider, *, by: Actor) -> None:
    """Remove an HTTP provider and its cached answers; appended values stay on the leads."""
    require(by, Permission.CONFIGURE_ENRICHMENT)
    EnrichmentProvider.objects.filter(pk=provider.pk).delete()
    _audit_provider(provider, by=by, change="deleted")
    transaction.on_commit(rules.invalidate)


def _audit_provider(provider: EnrichmentProvider, *, by: Actor, change: str) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=AuditTarget.PROVIDER,
        target_id=provider.pk,
        target_label=provider.name,
        data={"change": change},
    )


def has_active_providers() -> bool:
    """Whether any HTTP provider is on: one query per rules snapshot, not per lead."""
    snapshot = rules.current()
    if _active_owner[0] is not snapshot:
        _active_owner[0] = snapshot
        _active_flag[0] = EnrichmentProvider.objects.filter(is_active=True).exists()
    return _active_flag[0]


_active_owner: list[object] = [None]
_active_flag: list[bool] = [False]


def list_leads_missing_appendable() -> list[int]:
    """Ids of open (not merged) leads with an empty column that an active provider fills."""
    targets = {
        target
        for provider in EnrichmentProvider.objects.filter(is_active=True)
        for target in (provider.response_fields or {}).values()
        if isinstance(target, str) and target in WRITABLE_FIELDS
    }
    if not targets:
        return []
    empty = Q()
    for target in sorted(targets):
        empty |= Q(**{target: ""})
    leads = Lead.objects.filter(empty, merged_into__isnull=True).order_by("pk")
    return list(leads.values_list("pk", flat=True))


def schedule_http_enrichment(lead_id: int) -> None:
    """After the current transaction commits, enrich the lead through the HTTP providers (only
    when one is active, so the intake pays nothing otherwise)."""
    if has_active_providers():
        transaction.on_commit(
            partial(retry.enqueue, "leadloop.assessment.tasks.enrich_lead_task", lead_id=lead_id)
        )
