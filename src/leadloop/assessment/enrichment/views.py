"""Enrichment pages under /assessment/enrichment/: the built-in providers, the HTTP providers
(list, create, edit, delete) and "test with lead #", which shows what a provider would append.

For marketing and admins; everyone else gets a 404 (no hint). Every POST works without
JavaScript (redirect after success, the page again with errors and a 4xx); the test answers
with a fragment to HTMX.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.assessment import enrichment
from leadloop.assessment.models import EnrichmentProvider
from leadloop.core.secrets import MASK
from leadloop.errors import LeadloopError, NotFound
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.forms import UIForm


def _lines_help(example: str) -> str:
    return gettext_lazy("One per line, for example: %(example)s") % {"example": example}


class ProviderForm(UIForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=500,
        help_text=gettext_lazy("The web service's address (http:// or https://)."),
    )
    method = forms.ChoiceField(
        label=gettext_lazy("Method"),
        choices=[("GET", "GET"), ("POST", gettext_lazy("POST (JSON body)"))],
    )
    headers = forms.CharField(
        label=gettext_lazy("Headers"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy(
            "One per line, for example: Authorization: Bearer …. Stored values show as ••••••; "
            "leave such a line as it is to keep the value, or type a new value to replace it."
        ),
    )
    request_fields = forms.CharField(
        label=gettext_lazy("Send (parameter = lead field)"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_lines_help("domain = email_domain"),
    )
    response_fields = forms.CharField(
        label=gettext_lazy("Take from the answer (path = lead field)"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_lines_help("company.industry = extra.industry"),
    )
    timeout_seconds = forms.FloatField(
        label=gettext_lazy("Time-out (seconds)"), min_value=0.1, max_value=30
    )
    cache_hours = forms.IntegerField(
        label=gettext_lazy("Cache answers for (hours)"), min_value=0, max_value=8760
    )
    only_fill_empty = forms.BooleanField(
        label=gettext_lazy("Only fill empty fields"),
        required=False,
        help_text=gettext_lazy("Off: the provider's values replace what the lead has."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False)

    def clean_headers(self) -> dict[str, str]:
        return self._pairs("headers", ":")

    def mask_headers(self) -> None:
        """Show the posted headers again with their values masked: a form shown with errors
        must not put a typed API key back into the page."""
        if not self.is_bound:
            return
        names = []
        for line in str(self.data.get("headers") or "").splitlines():
            name, found, _value = line.partition(":")
            if found and name.strip():
                names.append(name.strip())
        data = QueryDict(mutable=True)
        data.update(self.data)
        data["headers"] = _as_lines(dict.fromkeys(names, MASK), ": ")
        self.data = data

    def clean_request_fields(self) -> dict[str, str]:
        return self._pairs("request_fields", "=")

    def clean_response_fields(self) -> dict[str, str]:
        return self._pairs("response_fields", "=")

    def _pairs(self, name: str, sep: str) -> dict[str, str]:
        pairs: dict[str, str] = {}
        for line in str(self.cleaned_data.get(name) or "").splitlines():
            if not line.strip():
                continue
            key, found, value = line.partition(sep)
            if not found or not key.strip():
                raise forms.ValidationError(
                    _("“%(line)s” is not “name %(sep)s value”.") % {"line": line[:80], "sep": sep}
                )
            pairs[key.strip()] = value.strip()
        return pairs


def _as_lines(pairs: Mapping[str, Any], sep: str) -> str:
    return "\n".join(f"{k}{sep}{v}" for k, v in pairs.items())


def _initial(provider: EnrichmentProvider | None) -> dict[str, Any]:
    if provider is None:
        return {
            "method": "GET",
            "timeout_seconds": 3.0,
            "cache_hours": 168,
            "only_fill_empty": True,
            "is_active": True,
        }
    return {
        "name": provider.name,
        "url": provider.url,
        "method": provider.method,
        # Stored values are API keys: the form shows each header's name with a mask, and a line
        # sent back masked keeps its value (web_config.clean_provider).
        "headers": _as_lines(dict.fromkeys(provider.header_names or [], MASK), ": "),
        "request_fields": _as_lines(provider.request_fields or {}, " = "),
        "response_fields": _as_lines(provider.response_fields or {}, " = "),
        "timeout_seconds": provider.timeout_seconds,
        "cache_hours": provider.cache_hours,
        "only_fill_empty": provider.only_fill_empty,
        "is_active": provider.is_active,
    }


def _configurer(request: HttpRequest) -> User:
    user = request.user
    if not can_manage_configuration(user):  # type: ignore[arg-type]
        raise Http404(_("No such page."))
    return user  # type: ignore[return-value]


def _provider(request: HttpRequest, provider_id: int) -> EnrichmentProvider:
    return enrichment.get_provider_for(_configurer(request), provider_id)


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


BUILT_IN = (
    (
        gettext_lazy("Company domain"),
        gettext_lazy(
            "A business e-mail address gives the company domain; an organisation with that "
            "e-mail domain becomes the lead's organisation. Free-mail and disposable domains "
            "are skipped."
        ),
    ),
    (
        gettext_lazy("Phone"),
        gettext_lazy("The country, time zone, line type and (for mobiles) the original carrier."),
    ),
    (
        gettext_lazy("Postal code"),
        gettext_lazy(
            "The region: Dutch and Belgian provinces, German states where the postal region "
            "lies in one state, and the countries Google's address data covers (US, CA, IT, "
            "ES, JP, …)."
        ),
    ),
    (
        gettext_lazy("Language"),
        gettext_lazy(
            "The country's main language when it has one (Belgium: from the postal code; "
            "Brussels and Switzerland: left empty)."
        ),
    ),
)


@login_required
@require_GET
def provider_list(request: HttpRequest) -> HttpResponse:
    actor = _configurer(request)
    return _render(
        request,
        "assessment/enrichment/provider_list.html",
        {"providers": list(enrichment.list_providers(actor)), "built_in": BUILT_IN},
    )


@login_required
def provider_create(request: HttpRequest) -> HttpResponse:
    actor = _configurer(request)
    form = ProviderForm(request.POST or None, initial=_initial(None))
    if request.method == "POST" and form.is_valid():
        try:
            created = enrichment.create_provider(values=form.cleaned_data, by=actor)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Provider “%(name)s” added.") % {"name": created.name})
            return redirect("assessment:enrichment-edit", provider_id=created.pk)
    form.mask_headers()
    return _render(
        request,
        "assessment/enrichment/provider_form.html",
        {"form": form, "provider": None},
        status=422 if form.errors else 200,
    )


@login_required
def provider_edit(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = _configurer(request)
    provider = _provider(request, provider_id)
    form = ProviderForm(request.POST or None, initial=_initial(provider))
    if request.method == "POST" and form.is_valid():
        try:
            enrichment.update_provider(provider, values=form.cleaned_data, by=actor)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Provider saved."))
            return redirect("assessment:enrichment-edit", provider_id=provider.pk)
    form.mask_headers()
    return _render(
        request,
        "assessment/enrichment/provider_form.html",
        {"form": form, "provider": provider},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def provider_delete(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = _configurer(request)
    provider = _provider(request, provider_id)
    enrichment.delete_provider(provider, by=actor)
    messages.success(request, _("Provider “%(name)s” deleted.") % {"name": provider.name})
    return redirect("assessment:enrichment-list")


@login_required
@require_POST
def provider_test(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = _configurer(request)
    provider = _provider(request, provider_id)
    raw = request.POST.get("lead_id", "").strip().lstrip("#")
    context: dict[str, Any] = {"provider": provider, "lead_id": raw[:20]}
    status = 200
    try:
        lead = leads_selectors.get_lead_for(actor, int(raw)) if raw.isdigit() else None
    except NotFound:
        lead = None
    if lead is None:
        context["test_error"] = _("No lead with that number.")
        status = 404
    else:
        outcome = enrichment.preview_enrichment(provider, lead, by=actor)
        context.update(lead=lead, outcome=outcome, rows=_rows(outcome, lead))
    if request.headers.get("HX-Request") == "true":
        return _render(request, "assessment/enrichment/_test_result.html", context, status=status)
    form = ProviderForm(initial=_initial(provider))
    return _render(
        request,
        "assessment/enrichment/provider_form.html",
        {**context, "form": form},
        status=status,
    )


def _rows(outcome: enrichment.Outcome, lead: Any) -> list[dict[str, Any]]:
    return [
        {
            "field": target,
            "now": enrichment.current_value(lead, target),
            "value": value,
            "appended": target in outcome.filled,
        }
        for target, value in outcome.values.items()
    ]


urlpatterns: list[URLPattern] = [
    path("enrichment/", provider_list, name="enrichment-list"),
    path("enrichment/new/", provider_create, name="enrichment-create"),
    path("enrichment/<int:provider_id>/", provider_edit, name="enrichment-edit"),
    path("enrichment/<int:provider_id>/delete/", provider_delete, name="enrichment-delete"),
    path("enrichment/<int:provider_id>/test/", provider_test, name="enrichment-test"),
]
