"""The settings pages of an admin: /settings/, users, teams, partner organisations, the
deployment's defaults and everyone's API keys; and
the public page a one-time link opens to set a password (/set-password/<uid>/<token>/)."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadloop.accounts import selectors, services
from leadloop.accounts.forms import (
    ApiKeyForm,
    DefaultsForm,
    PartnerEditForm,
    PartnerForm,
    ServiceForm,
    SetPasswordForm,
    TeamForm,
    UserForm,
)
from leadloop.accounts.models import PartnerOrganization, Team, User
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.services import IssuedKey
from leadloop.accounts.services.users import PasswordLink, user_for_link
from leadloop.accounts.settings_forms import edit_page, list_page, saved_message
from leadloop.accounts.views import revoke_context
from leadloop.errors import LeadloopError


def _admin(request: HttpRequest) -> User:
    actor: User = request.user  # type: ignore[assignment]
    require(actor, Permission.MANAGE_USERS)
    return actor


def _link_url(request: HttpRequest, link: PasswordLink) -> str:
    path = reverse("accounts:set-password", args=[link.uidb64, link.token])
    return request.build_absolute_uri(path)


@login_required
def settings_index(request: HttpRequest) -> HttpResponse:
    _admin(request)
    return render(request, "accounts/settings_index.html")


def _users_page(request: HttpRequest, actor: User, form: ServiceForm, status: int) -> HttpResponse:
    page = Paginator(selectors.list_users(actor), selectors.USERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "users": page.object_list, "form": form}
    return render(request, "accounts/users.html", context, status=status)


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = UserForm(request.POST or None, actor=actor)

    def save() -> PasswordLink:
        user = services.add_user(by=actor, **form.profile())
        return services.create_password_link(user, by=actor)

    def created(link: PasswordLink) -> HttpResponse:
        context = {"target": link.user, "link": _link_url(request, link), "created": True}
        return render(request, "accounts/password_link.html", context, status=201)

    return list_page(
        request, form, save=save, show=partial(_users_page, request, actor), saved=created
    )


@login_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _admin(request)
    user = selectors.get_user_for_admin(actor, user_id)
    form = UserForm(request.POST or None, actor=actor, user=user)
    return edit_page(
        request,
        form,
        save=lambda: services.change_user(user, by=actor, **form.profile()),
        template="accounts/user_edit.html",
        context={"target": user},
        name=lambda: user.username,
        done=reverse("accounts:users"),
    )


@login_required
@require_POST
def user_set_active(request: HttpRequest, user_id: int) -> HttpResponse:
    """Reactivate at once; deactivate only from the confirmation page (works without JS)."""
    actor = _admin(request)
    user = selectors.get_user_for_admin(actor, user_id)
    active = request.POST.get("active") == "1"
    if not active and request.POST.get("confirm") != "1":
        return render(request, "accounts/user_deactivate.html", {"target": user})
    try:
        services.set_user_active(user, active=active, by=actor)
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        if active:
            messages.success(request, _("%(name)s can log in again.") % {"name": user.username})
        else:
            messages.success(request, _("%(name)s can no longer log in.") % {"name": user.username})
    return redirect("accounts:users")


@login_required
@require_POST
def user_password_link(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _admin(request)
    user = selectors.get_user_for_admin(actor, user_id)
    link = services.create_password_link(user, by=actor)
    return render(
        request,
        "accounts/password_link.html",
        {"target": user, "link": _link_url(request, link), "created": False},
    )


def set_password(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """Public: the page a one-time link opens. A used or expired link answers 404."""
    user = user_for_link(uidb64, token)
    form = SetPasswordForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.set_password_from_link(
                    uidb64=uidb64, token=token, password=form.cleaned_data["password"]
                )
            except LeadloopError as exc:
                form.apply_service_error(exc)
                status = exc.status
            else:
                messages.success(request, _("Your password is set. Log in with it."))
                return redirect("web:login")
        else:
            status = 422
    return render(
        request, "accounts/set_password.html", {"form": form, "target": user}, status=status
    )


# --- Teams and partner organisations -------------------------------------------------------------


def _teams_page(request: HttpRequest, actor: User, form: ServiceForm, status: int) -> HttpResponse:
    context = {
        "teams": selectors.list_all_teams(actor).annotate(member_count=Count("members")),
        "form": form,
    }
    return render(request, "accounts/teams.html", context, status=status)


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = TeamForm(request.POST or None, actor=actor)

    def save() -> Team:
        return services.create_team(
            by=actor, name=form.cleaned_data["name"], manager=form.chosen_manager()
        )

    def created(team: Team) -> HttpResponse:
        saved_message(request, team.name)
        return redirect("accounts:teams")

    return list_page(
        request, form, save=save, show=partial(_teams_page, request, actor), saved=created
    )


@login_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    actor = _admin(request)
    team = selectors.get_team_for_admin(actor, team_id)
    form = TeamForm(request.POST or None, actor=actor, team=team)
    return edit_page(
        request,
        form,
        save=lambda: services.change_team(
            team,
            by=actor,
            name=form.cleaned_data["name"],
            manager=form.chosen_manager(),
            members=form.chosen_members(),
        ),
        template="accounts/team_edit.html",
        context={"target": team},
        name=lambda: team.name,
        done=reverse("accounts:teams"),
    )


def _partners_page(
    request: HttpRequest, actor: User, form: ServiceForm, status: int
) -> HttpResponse:
    context = {
        "partners": selectors.list_partners(actor).annotate(user_count=Count("users")),
        "form": form,
    }
    return render(request, "accounts/partners.html", context, status=status)


@login_required
def partner_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    form = PartnerForm(request.POST or None)

    def created(partner: PartnerOrganization) -> HttpResponse:
        saved_message(request, partner.name)
        return redirect("accounts:partners")

    return list_page(
        request,
        form,
        save=lambda: services.create_partner(by=actor, name=form.cleaned_data["name"]),
        show=partial(_partners_page, request, actor),
        saved=created,
    )


@login_required
def partner_edit(request: HttpRequest, partner_id: int) -> HttpResponse:
    actor = _admin(request)
    partner = selectors.get_partner_for_admin(actor, partner_id)
    initial = {
        "name": partner.name,
        "is_active": partner.is_active,
        "lead_fields": list(partner.visible_fields or []),
    }
    form = PartnerEditForm(request.POST or None, initial=initial)
    return edit_page(
        request,
        form,
        save=lambda: services.change_partner(
            partner,
            by=actor,
            name=form.cleaned_data["name"],
            is_active=form.cleaned_data["is_active"],
            visible_fields=form.cleaned_data["lead_fields"],
        ),
        template="accounts/partner_edit.html",
        context={"target": partner},
        name=lambda: partner.name,
        done=reverse("accounts:partners"),
    )


# --- Deployment defaults and everyone's API keys -------------------------------------------------


@login_required
def defaults_edit(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    current = selectors.get_defaults()
    form = DefaultsForm(request.POST or None, current=current)
    return edit_page(
        request,
        form,
        save=lambda: services.change_defaults(by=actor, **form.cleaned_data),
        template="accounts/defaults.html",
        context={"current": current},
        name=lambda: "",
        done=reverse("accounts:defaults"),
        message=_("The defaults are saved."),
    )


API_KEYS_PER_PAGE = 50


def _key_admin(request: HttpRequest) -> User:
    actor: User = request.user  # type: ignore[assignment]
    require(actor, Permission.MANAGE_ALL_API_KEYS)
    return actor


def _keys_page(
    request: HttpRequest,
    actor: User,
    form: ServiceForm,
    status: int,
    *,
    new_key: IssuedKey | None = None,
) -> HttpResponse:
    page = Paginator(selectors.list_api_keys(actor), API_KEYS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "keys": page.object_list, "form": form, "new_key": new_key}
    return render(request, "accounts/settings_api_keys.html", context, status=status)


@login_required
def admin_api_key_list(request: HttpRequest) -> HttpResponse:
    actor = _key_admin(request)
    form = ApiKeyForm(request.POST or None, actor=actor)
    show = partial(_keys_page, request, actor)
    return list_page(
        request,
        form,
        save=lambda: services.create_api_key(
            form.owner(actor), name=form.cleaned_data["name"], by=actor
        ),
        show=show,
        # The raw key is on this response only: never stored, never put in a redirect.
        saved=lambda issued: show(ApiKeyForm(actor=actor), 201, new_key=issued),
    )


@login_required
def admin_api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    """GET asks to confirm; the confirming POST revokes (no JavaScript needed)."""
    actor = _key_admin(request)
    key = selectors.get_api_key_for(actor, key_id)
    if request.method != "POST" or request.POST.get("confirm") != "1":
        return render(request, "accounts/api_key_revoke.html", revoke_context(key, own=False))
    services.revoke_api_key(key, by=actor)
    messages.success(request, _("The key %(prefix)s… no longer works.") % {"prefix": key.prefix})
    return redirect("accounts:admin-api-keys")
