"""Pages that belong to no domain app: the start page and the language switch."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from leadloop.accounts import services as accounts_services


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return redirect("leads:lead-list")


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie + redirect), and remember the choice on the user."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        accounts_services.set_user_language(request.user, language=language)
    return response
