"""The settings pages of an admin: /settings/, users, teams and partner organisations; and
the public page a one-time link opens to set a password (/set-password/<uid>/<token>/)."""

from __future__ import annotations

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
from leadloop.accounts.forms import PartnerForm, SetPasswordForm, TeamForm, UserForm
from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.services.users import PasswordLink, user_for_link
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


def _users_page(
    request: HttpRequest, actor: User, *, form: UserForm | None = None, status: int = 200
) -> HttpResponse:
    page = Paginator(selectors.list_users(actor), selectors.USERS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = {"page": page, "users": page.object_list, "form": form or UserForm(actor=actor)}
    return render(request, "accounts/users.html", context, status=status)


@login_required
def user_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    if request.method != "POST":
        return _users_page(request, actor)
    form = UserForm(request.POST, actor=actor)
    if not form.is_valid():
        return _users_page(request, actor, form=form, status=422)
    try:
        user = services.add_user(by=actor, **form.profile())
        link = services.create_password_link(user, by=actor)
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _users_page(request, actor, form=form, status=exc.status)
    return render(
        request,
        "accounts/password_link.html",
        {"target": user, "link": _link_url(request, link), "created": True},
        status=201,
    )


@login_required
def user_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _admin(request)
    user = selectors.get_user_for_admin(actor, user_id)
    form = UserForm(request.POST if request.method == "POST" else None, actor=actor, user=user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.change_user(user, by=actor, **form.profile())
            except LeadloopError as exc:
                form.apply_service_error(exc)
                status = exc.status
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": user.username})
                return redirect("accounts:users")
        else:
            status = 422
    return render(request, "accounts/user_edit.html", {"target": user, "form": form}, status=status)


@login_required
@require_POST
def user_set_active(request: HttpRequest, user_id: int) -> HttpResponse:
    actor = _admin(request)
    user = selectors.get_user_for_admin(actor, user_id)
    active = request.POST.get("active") == "1"
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


def _teams_page(
    request: HttpRequest, actor: User, *, form: TeamForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "teams": selectors.list_all_teams(actor).annotate(member_count=Count("members")),
        "form": form or TeamForm(actor=actor),
    }
    return render(request, "accounts/teams.html", context, status=status)


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    if request.method != "POST":
        return _teams_page(request, actor)
    form = TeamForm(request.POST, actor=actor)
    if not form.is_valid():
        return _teams_page(request, actor, form=form, status=422)
    try:
        team = services.create_team(
            by=actor, name=form.cleaned_data["name"], manager=form.chosen_manager()
        )
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _teams_page(request, actor, form=form, status=exc.status)
    messages.success(request, _("%(name)s is saved.") % {"name": team.name})
    return redirect("accounts:teams")


@login_required
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    actor = _admin(request)
    team = selectors.get_team_for_admin(actor, team_id)
    form = TeamForm(request.POST if request.method == "POST" else None, actor=actor, team=team)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.change_team(
                    team,
                    by=actor,
                    name=form.cleaned_data["name"],
                    manager=form.chosen_manager(),
                    members=form.chosen_members(),
                )
            except LeadloopError as exc:
                form.apply_service_error(exc)
                status = exc.status
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": team.name})
                return redirect("accounts:teams")
        else:
            status = 422
    return render(request, "accounts/team_edit.html", {"target": team, "form": form}, status=status)


def _partners_page(
    request: HttpRequest, actor: User, *, form: PartnerForm | None = None, status: int = 200
) -> HttpResponse:
    context = {
        "partners": selectors.list_partners(actor).annotate(user_count=Count("users")),
        "form": form or PartnerForm(),
    }
    return render(request, "accounts/partners.html", context, status=status)


@login_required
def partner_list(request: HttpRequest) -> HttpResponse:
    actor = _admin(request)
    if request.method != "POST":
        return _partners_page(request, actor)
    form = PartnerForm(request.POST)
    if not form.is_valid():
        return _partners_page(request, actor, form=form, status=422)
    try:
        partner = services.create_partner(by=actor, name=form.cleaned_data["name"])
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _partners_page(request, actor, form=form, status=exc.status)
    messages.success(request, _("%(name)s is saved.") % {"name": partner.name})
    return redirect("accounts:partners")


@login_required
def partner_edit(request: HttpRequest, partner_id: int) -> HttpResponse:
    actor = _admin(request)
    partner = selectors.get_partner_for_admin(actor, partner_id)
    initial = {"name": partner.name, "is_active": partner.is_active}
    form = PartnerForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.change_partner(
                    partner,
                    by=actor,
                    name=form.cleaned_data["name"],
                    is_active=form.cleaned_data["is_active"],
                )
            except LeadloopError as exc:
                form.apply_service_error(exc)
                status = exc.status
            else:
                messages.success(request, _("%(name)s is saved.") % {"name": partner.name})
                return redirect("accounts:partners")
        else:
            status = 422
    context = {"target": partner, "form": form}
    return render(request, "accounts/partner_edit.html", context, status=status)
