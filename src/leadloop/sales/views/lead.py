"""The follow-up panel's actions on one lead, under /sales/leads/<id>/: next steps, calls,
meetings, e-mails, quotes, won and lost.

Each action is a POST. From the lead page (HTMX) it answers with the panel, re-rendered: with
the form and its errors when the action was refused, or with a notice when it was done; when the
action moved the lead to another status, the whole lead page is fetched again (HX-Location), so
its badges, buttons and timeline follow. Without JavaScript the same POST redirects back to the
lead page, or shows the panel on a page of its own with the errors.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.models import User
from leadloop.errors import LeadloopError
from leadloop.leads.models import Lead
from leadloop.leads.selectors import get_lead_for
from leadloop.sales.forms.lead import (
    CallForm,
    CancelTaskForm,
    EmailForm,
    LostForm,
    MeetingForm,
    QuoteForm,
    RescheduleForm,
    SalesForm,
    SnoozeForm,
    TaskForm,
    WonForm,
)
from leadloop.sales.selectors import lead as selectors
from leadloop.sales.selectors.templates import get_template_for
from leadloop.sales.services import contact, quotes, steps


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _panel(
    request: HttpRequest,
    lead_id: int,
    *,
    bound: dict[str, SalesForm] | None = None,
    notice: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The panel alone (HTMX), or on a page of its own (a plain form post that failed)."""
    lead = get_lead_for(_user(request), lead_id)
    context = {
        "lead": lead,
        "panel_forms": bound or {},
        "panel_notice": notice,
        "panel_error": error,
    }
    template = "sales/_panel_response.html" if _is_htmx(request) else "sales/lead_panel.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _done(request: HttpRequest, lead: Lead, message: str) -> HttpResponse:
    now = get_lead_for(_user(request), lead.pk)
    if not _is_htmx(request):
        messages.success(request, message)
        return redirect("leads:lead-detail", lead_id=lead.pk)
    if now.status != lead.status:
        # The status moved: the lead page's badges, buttons and timeline change too.
        messages.success(request, message)
        page = reverse("leads:lead-detail", kwargs={"lead_id": lead.pk})
        response = HttpResponse()
        if urlsplit(request.headers.get("HX-Current-URL", "")).path == page:
            location = {"path": page, "target": "#lead-detail", "swap": "outerHTML"}
            response["HX-Location"] = json.dumps(location)
        else:
            response["HX-Redirect"] = page  # from the panel's own page
        return response
    return _panel(request, lead.pk, notice=message)


def _act(
    request: HttpRequest,
    lead: Lead,
    key: str,
    form: SalesForm,
    action: Callable[[], Any],
    message: str,
) -> HttpResponse:
    """Run `action` when `form` is valid; show the form again with what was wrong otherwise."""
    if not form.is_valid():
        return _panel(request, lead.pk, bound={key: form}, status=422)
    try:
        action()
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _panel(request, lead.pk, bound={key: form}, status=exc.status)
    return _done(request, lead, message)


def _press(
    request: HttpRequest, lead: Lead, action: Callable[[], Any], message: str
) -> HttpResponse:
    """A button without fields (done, make current, mark sent): a refusal shows on top."""
    try:
        action()
    except LeadloopError as exc:
        return _panel(request, lead.pk, error=exc.detail, status=exc.status)
    return _done(request, lead, message)


@login_required
@require_GET
def lead_panel(request: HttpRequest, lead_id: int) -> HttpResponse:
    get_lead_for(_user(request), lead_id)
    return _panel(request, lead_id)


# --- Next steps --------------------------------------------------------------------------------


@login_required
@require_POST
def task_add(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    lead = selectors.get_lead_to_work(user, lead_id)
    form = TaskForm(request.POST, actor=user)
    return _act(
        request,
        lead,
        "task",
        form,
        lambda: steps.add_task(lead, by=user, **form.values()),
        _("Next step planned."),
    )


@login_required
@require_POST
def task_done(request: HttpRequest, lead_id: int, task_id: int) -> HttpResponse:
    user = _user(request)
    task = selectors.get_task_for(user, lead_id, task_id)
    return _press(request, task.lead, lambda: steps.complete_task(task, by=user), _("Step done."))


@login_required
@require_POST
def task_snooze(request: HttpRequest, lead_id: int, task_id: int) -> HttpResponse:
    user = _user(request)
    task = selectors.get_task_for(user, lead_id, task_id)
    form = SnoozeForm(request.POST, prefix=f"snooze-{task.pk}")
    return _act(
        request,
        task.lead,
        f"snooze-{task.pk}",
        form,
        lambda: steps.move_task(
            task,
            by=user,
            due_at=form.due_at(task.due_at),
            reason=form.cleaned_data["reason"],
            snooze=True,
        ),
        _("Step snoozed."),
    )


@login_required
@require_POST
def task_reschedule(request: HttpRequest, lead_id: int, task_id: int) -> HttpResponse:
    user = _user(request)
    task = selectors.get_task_for(user, lead_id, task_id)
    form = RescheduleForm(request.POST, prefix=f"reschedule-{task.pk}")
    return _act(
        request,
        task.lead,
        f"reschedule-{task.pk}",
        form,
        lambda: steps.move_task(
            task, by=user, due_at=form.cleaned_data["due_at"], reason=form.cleaned_data["reason"]
        ),
        _("Step rescheduled."),
    )


@login_required
@require_POST
def task_cancel(request: HttpRequest, lead_id: int, task_id: int) -> HttpResponse:
    user = _user(request)
    task = selectors.get_task_for(user, lead_id, task_id)
    form = CancelTaskForm(request.POST, prefix=f"cancel-{task.pk}")
    return _act(
        request,
        task.lead,
        f"cancel-{task.pk}",
        form,
        lambda: steps.cancel_task(task, by=user, reason=form.cleaned_data["reason"]),
        _("Step cancelled."),
    )


# --- Contact -----------------------------------------------------------------------------------


@login_required
@require_POST
def call_log(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    lead = selectors.get_lead_to_log(user, lead_id)
    form = CallForm(request.POST, partner=selectors.is_partner(user))
    return _act(
        request,
        lead,
        "call",
        form,
        lambda: contact.log_call(lead, by=user, **form.values()),
        _("Call logged."),
    )


@login_required
@require_POST
def meeting_log(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    lead = selectors.get_lead_to_log(user, lead_id)
    form = MeetingForm(request.POST)
    return _act(
        request,
        lead,
        "meeting",
        form,
        lambda: contact.log_meeting(lead, by=user, note=form.cleaned_data["note"]),
        _("Meeting logged."),
    )


@login_required
@require_http_methods(["GET", "POST"])
def email_send(request: HttpRequest, lead_id: int) -> HttpResponse:
    """GET fills the form from a template (`?template=<id>`); POST sends what the rep wrote."""
    user = _user(request)
    lead = selectors.get_lead_to_work(user, lead_id)
    if request.method == "GET":
        chosen = request.GET.get("template", "")
        initial = {}
        if chosen.isdigit() and len(chosen) < 19:
            template = get_template_for(user, int(chosen))
            initial = {
                "subject": contact.fill(template.subject, lead=lead, sender=user),
                "body": contact.fill(template.body, lead=lead, sender=user),
            }
        return _panel(request, lead.pk, bound={"email": EmailForm(initial=initial)})
    form = EmailForm(request.POST)
    return _act(
        request,
        lead,
        "email",
        form,
        lambda: contact.send_email(
            lead, by=user, subject=form.cleaned_data["subject"], body=form.cleaned_data["body"]
        ),
        _("E-mail sent to %(to)s.") % {"to": lead.email},
    )


# --- Quotes and outcomes -----------------------------------------------------------------------


@login_required
@require_POST
def quote_add(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    lead = selectors.get_lead_to_work(user, lead_id)
    form = QuoteForm(request.POST)
    return _act(
        request,
        lead,
        "quote",
        form,
        lambda: quotes.add_quote(lead, by=user, send=form.cleaned_data["send"], **form.values()),
        _("Quote added."),
    )


@login_required
@require_POST
def quote_edit(request: HttpRequest, lead_id: int, quote_id: int) -> HttpResponse:
    user = _user(request)
    quote = selectors.get_quote_for(user, lead_id, quote_id)
    form = QuoteForm(request.POST, quote=quote)

    def save() -> None:
        changes = form.values()
        if changes["probability"] is None:
            del changes["probability"]  # empty keeps the quote's own
        quotes.update_quote(quote, by=user, **changes)

    return _act(request, quote.lead, f"quote-{quote.pk}", form, save, _("Quote saved."))


@login_required
@require_POST
def quote_current(request: HttpRequest, lead_id: int, quote_id: int) -> HttpResponse:
    user = _user(request)
    quote = selectors.get_quote_for(user, lead_id, quote_id)
    return _press(
        request,
        quote.lead,
        lambda: quotes.make_current(quote, by=user),
        _("This quote is now the current one."),
    )


@login_required
@require_POST
def quote_send(request: HttpRequest, lead_id: int, quote_id: int) -> HttpResponse:
    user = _user(request)
    quote = selectors.get_quote_for(user, lead_id, quote_id)
    return _press(
        request,
        quote.lead,
        lambda: quotes.send_quote(quote, by=user),
        _("Quote marked as sent; a reminder to ask for the answer is planned."),
    )


@login_required
@require_POST
def lead_won(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    lead = selectors.get_lead_to_work(user, lead_id)
    form = WonForm(request.POST)
    return _act(
        request,
        lead,
        "won",
        form,
        lambda: quotes.win(
            lead,
            by=user,
            order_value=form.cleaned_data["order_value"],
            won_on=form.cleaned_data["won_on"],
            note=form.cleaned_data["note"],
        ),
        _("Won. Well done!"),
    )


@login_required
@require_POST
def lead_lost(request: HttpRequest, lead_id: int) -> HttpResponse:
    user = _user(request)
    lead = selectors.get_lead_to_work(user, lead_id)
    form = LostForm(request.POST, actor=user)
    return _act(
        request,
        lead,
        "lost",
        form,
        lambda: quotes.lose(
            lead,
            by=user,
            lost_reason=form.cleaned_data["lost_reason"],
            competitor=form.cleaned_data["competitor"],
            note=form.cleaned_data["note"],
        ),
        _("Marked as lost."),
    )
