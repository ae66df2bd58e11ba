"""The account pages: a user's API keys (an admin's: everyone's)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from leadloop.accounts import selectors, services
from leadloop.accounts.forms import ApiKeyForm
from leadloop.accounts.models import ApiKey, User
from leadloop.errors import LeadloopError


def _actor(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _page(
    request: HttpRequest,
    *,
    form: ApiKeyForm | None = None,
    new_key: Any = None,
    status: int = 200,
) -> HttpResponse:
    actor = _actor(request)
    context = {
        "keys": selectors.list_api_keys(actor),
        "sees_all": selectors.sees_all_api_keys(actor),
        "form": form or ApiKeyForm(actor=actor),
        "new_key": new_key,
        "htmx": _is_htmx(request),
    }
    template = "accounts/_api_keys.html" if _is_htmx(request) else "accounts/api_keys.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
def api_key_list(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request)
    actor = _actor(request)
    form = ApiKeyForm(request.POST, actor=actor)
    if not form.is_valid():
        return _page(request, form=form, status=422)
    try:
        issued = services.create_api_key(
            form.owner(actor), name=form.cleaned_data["name"], by=actor
        )
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _page(request, form=form, status=exc.status)
    # The raw key is on this response only: never stored, never put in a redirect or a message.
    return _page(request, new_key=issued, status=201)


@login_required
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """GET (or a POST without `confirm`) asks to confirm; the confirming POST revokes. A page,
    not a JavaScript confirm(), so it works without scripts and with a screen reader."""
    actor = _actor(request)
    key = selectors.get_api_key_for(actor, key_id)
    if request.method != "POST" or request.POST.get("confirm") != "1":
        return render(request, "accounts/api_key_revoke.html", revoke_context(key, own=True))
    key = services.revoke_api_key(key, by=actor)
    messages.success(request, _("The key %(prefix)s… no longer works.") % {"prefix": key.prefix})
    return redirect("accounts:api-keys")


def revoke_context(key: ApiKey, *, own: bool) -> dict[str, Any]:
    """The confirmation page's key and where it posts and goes back to (own page or settings)."""
    if own:
        return {
            "key": key,
            "action": reverse("accounts:api-key-revoke", args=[key.pk]),
            "back": reverse("accounts:api-keys"),
        }
    return {
        "key": key,
        "action": reverse("accounts:admin-api-key-revoke", args=[key.pk]),
        "back": reverse("accounts:admin-api-keys"),
    }
