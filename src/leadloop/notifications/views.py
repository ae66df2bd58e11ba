"""A user's notifications: the list, opening one (marks it read), all read, the e-mail choice."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.notifications import selectors, services
from leadloop.notifications.models import EmailChoice

PAGE = 100


class PreferenceForm(forms.Form):
    email = forms.ChoiceField(
        label=gettext_lazy("E-mail me"), choices=EmailChoice.choices, widget=forms.RadioSelect
    )


@login_required
@require_GET
def notification_list(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    notifications = selectors.list_for(user)
    return render(
        request,
        "notifications/list.html",
        {
            "notifications": list(notifications[:PAGE]),
            "unread": selectors.count_unread(user),
            "form": PreferenceForm(initial={"email": selectors.email_choice(user)}),
            "mail_configured": services.mail_configured(),
        },
    )


@login_required
@require_POST
def notification_open(request: HttpRequest, notification_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    found = selectors.list_for(user).filter(pk=notification_id).first()
    if found is None:
        raise Http404
    services.mark_read(user, ids=[found.pk])
    return redirect(found.url if found.url.startswith("/") else reverse("notifications:list"))


@login_required
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    services.mark_read(user)
    return redirect(reverse("notifications:list"))


@login_required
@require_POST
def notification_preference(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    form = PreferenceForm(request.POST)
    if form.is_valid():
        services.set_email_choice(user, email=form.cleaned_data["email"])
        messages.success(request, _("Saved."))
    else:
        messages.error(request, _("Choose at once, daily or not by e-mail."))
    return redirect(reverse("notifications:list"))
