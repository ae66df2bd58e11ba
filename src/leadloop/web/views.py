"""Pages that belong to no domain app: the start page, the lockout page and the language switch."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from leadloop.accounts import selectors as accounts_selectors
from leadloop.accounts import services as accounts_services
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget, Role, User
from leadloop.assessment.review import selectors as review_selectors
from leadloop.intake import selectors as intake_selectors
from leadloop.leads.selectors import home as home_selectors


class LoginView(auth_views.LoginView):
    """Django's login page, with each success and failure in the audit log."""

    template_name = "web/login.html"

    def form_valid(self, form: AuthenticationForm) -> HttpResponse:
        response = super().form_valid(form)
        user = form.get_user()
        record_audit(
            actor=user,
            action=AuditAction.LOGIN,
            target_type=AuditTarget.USER,
            target_id=user.pk,
            target_label=user.get_username(),
            request=self.request,
        )
        return response

    def form_invalid(self, form: AuthenticationForm) -> HttpResponse:
        # Only a name that belongs to a user is kept: people type passwords into the name box.
        known = accounts_selectors.find_user_by_username(str(form.data.get("username", "")))
        record_audit(
            actor=None,
            action=AuditAction.LOGIN_FAILED,
            target_type=AuditTarget.USER,
            target_id=known.pk if known else None,
            target_label=known.username if known else "",
            data={"known_user": known is not None},
            request=self.request,
        )
        return super().form_invalid(form)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The start page: what needs the viewer today, by role (docs/home.md)."""
    user = cast(User, request.user)  # login_required: never anonymous here
    now = timezone.now()
    role = user.role
    context: dict[str, Any] = {"role": role, "now": now}
    if role in (Role.SALES_REP, Role.SALES_MANAGER):
        context["due"] = home_selectors.list_my_follow_ups_due(user, now=now)
        context["new_leads"] = home_selectors.list_my_new_leads(user)
        context["held"] = review_selectors.count_held_leads(user)
    if role == Role.SALES_MANAGER:
        context["unassigned"] = home_selectors.count_unassigned(user)
        context["overdue"] = home_selectors.count_overdue(user, now=now)
    if role in (Role.ADMIN, Role.MARKETING):
        context["intake"] = home_selectors.list_intake_today(user, now=now)
        context["intake_total"] = sum(row.count for row in context["intake"])
        context["quarantined"] = intake_selectors.count_quarantined(user)
        context["needing_review"] = intake_selectors.count_needing_review(user)
        context["held"] = review_selectors.count_held_leads(user)
    if role == Role.PARTNER:
        context["recent"] = home_selectors.list_recent_leads(user)
        context["open"] = home_selectors.count_open(user)
    return render(request, "web/home.html", context)


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (cookie + redirect), and remember the choice on the user."""
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and language in dict(settings.LANGUAGES):
        accounts_services.set_user_language(request.user, language=language)
    return response


def locked_out(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The login page again, saying the login is locked and for how long (django-axes calls it).

    Every attempt while locked, the right password included, starts the cool-off again, so the
    whole cool-off is what is left.
    """
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    username = str((credentials or {}).get("username") or request.POST.get("username", ""))[:150]
    form = AuthenticationForm(request, initial={"username": username})
    response = render(
        request,
        "web/login.html",
        {"form": form, "locked_minutes": minutes, "next": request.POST.get("next", "")},
        status=429,
    )
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response
