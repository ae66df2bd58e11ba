"""The one pattern every settings page repeats: validate a form, call a service, and either
redirect with a message or show the form again with the service's errors and status."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from leadloop.accounts.forms import ServiceForm
from leadloop.errors import LeadloopError

T = TypeVar("T")


class Failed:
    """What `submit` returns when the form or the service refused; `status` is the answer's."""

    def __init__(self, status: int) -> None:
        self.status = status


def submit(form: ServiceForm, save: Callable[[], T]) -> T | Failed:
    """Validate `form`, then run `save`; a domain error lands on the form with its status."""
    if not form.is_valid():
        return Failed(422)
    try:
        return save()
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return Failed(exc.status)


def saved_message(request: HttpRequest, name: str) -> None:
    messages.success(request, _("%(name)s is saved.") % {"name": name})


def edit_page(
    request: HttpRequest,
    form: ServiceForm,
    *,
    save: Callable[[], Any],
    template: str,
    context: Mapping[str, Any],
    name: Callable[[], str],
    done: str,
    message: str | None = None,
) -> HttpResponse:
    """An edit page: GET shows `form`; a POST that saves redirects to `done` with a message
    (`message`, else "<name> is saved.")."""
    status = 200
    if request.method == "POST":
        result = submit(form, save)
        if not isinstance(result, Failed):
            if message is None:
                saved_message(request, name())
            else:
                messages.success(request, message)
            return redirect(done)
        status = result.status
    return render(request, template, {**context, "form": form}, status=status)


def list_page(
    request: HttpRequest,
    form: ServiceForm,
    *,
    save: Callable[[], T],
    show: Callable[[ServiceForm, int], HttpResponse],
    saved: Callable[[T], HttpResponse],
) -> HttpResponse:
    """A list with a create form: GET shows it; a POST runs `save`, then `saved` answers, or the
    list is shown again with the form's errors."""
    if request.method != "POST":
        return show(form, 200)
    result = submit(form, save)
    if isinstance(result, Failed):
        return show(form, result.status)
    return saved(result)
