"""Marketing e-mail pages for marketing and admins: templates with a live preview against a
lead, the suppression list, returned mail (bounces and complaints, with the mails that could not
be read), and a lead's marketing mails with a send form."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import LeadloopError
from leadloop.leads.selectors import get_lead_for
from leadloop.nurture.mail import selectors
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.forms import PreviewForm, SendForm, SuppressionForm, TemplateForm
from leadloop.nurture.mail.models import MarketingTemplate
from leadloop.nurture.mail.services import rendering
from leadloop.nurture.mail.services import templates as template_services
from leadloop.nurture.surveys import selectors as survey_selectors

PLACEHOLDERS = [f"{{{name}}}" for name in rendering.MERGE_FIELDS]


def _marketer(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    require(user, Permission.MANAGE_NURTURE)
    return user


def _surveys(user: User) -> list[tuple[int, str]]:
    """The active surveys a template may link to."""
    return [(s.pk, s.name) for s in survey_selectors.list_surveys(user).filter(is_active=True)]


def _form_page(
    request: HttpRequest,
    form: TemplateForm,
    template: MarketingTemplate | None,
    *,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "template": template, "placeholders": PLACEHOLDERS}
    return render(request, "nurture/mail/template_form.html", context, status=status)


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    user = _marketer(request)
    context = {"templates": list(selectors.list_templates_for(user)), "placeholders": PLACEHOLDERS}
    return render(request, "nurture/mail/template_list.html", context)


@login_required
def template_new(request: HttpRequest) -> HttpResponse:
    user = _marketer(request)
    if request.method != "POST":
        initial = {"language": user.language or ""}
        return _form_page(request, TemplateForm(initial=initial, surveys=_surveys(user)), None)
    form = TemplateForm(request.POST, surveys=_surveys(user))
    if form.is_valid():
        try:
            mail.create_template(by=user, **form.cleaned_data)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Template added."))
            return redirect("nurture:mail-templates")
    return _form_page(request, form, None, status=422)


@login_required
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    user = _marketer(request)
    template = selectors.get_template_for(user, template_id)
    if request.method != "POST":
        initial = {name: getattr(template, name) for name in template_services.FIELDS}
        return _form_page(request, TemplateForm(initial=initial, surveys=_surveys(user)), template)
    form = TemplateForm(request.POST, surveys=_surveys(user))
    if form.is_valid():
        try:
            mail.update_template(template, by=user, **form.cleaned_data)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Template saved."))
            return redirect("nurture:mail-templates")
    return _form_page(request, form, template, status=422)


@login_required
@require_POST
def template_delete(request: HttpRequest, template_id: int) -> HttpResponse:
    user = _marketer(request)
    mail.delete_template(selectors.get_template_for(user, template_id), by=user)
    messages.success(request, _("Template deleted."))
    return redirect("nurture:mail-templates")


@login_required
@require_POST
def template_preview(request: HttpRequest) -> HttpResponse:
    """The HTMX partial beside the template form: the mail as the chosen lead would get it."""
    user = _marketer(request)
    form = PreviewForm(request.POST)
    form.fields["survey_id"].choices = [("", ""), *_surveys(user)]  # type: ignore[attr-defined]
    context: dict[str, Any] = {"errors": []}
    if form.is_valid():
        data = form.cleaned_data
        try:
            lead = get_lead_for(user, data["lead"]) if data["lead"] else None
            context["mail"] = mail.preview(
                by=user,
                subject=data["subject"],
                body=data["body"],
                language=data["language"],
                lead=lead,
                survey_id=data["survey_id"],
            )
            context["lead"] = lead
        except LeadloopError as exc:
            context["errors"] = [exc.detail, *(m for ms in exc.errors.values() for m in ms)]
    else:
        context["errors"] = [_("Give a lead number.")]
    return render(request, "nurture/mail/_preview.html", context)


@login_required
def suppression_list(request: HttpRequest) -> HttpResponse:
    user = _marketer(request)
    form = SuppressionForm()
    status = 200
    if request.method == "POST":
        form = SuppressionForm(request.POST)
        if form.is_valid():
            try:
                mail.add_suppression(by=user, **form.cleaned_data)
            except LeadloopError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("Address added to the suppression list."))
                return redirect("nurture:mail-suppressions")
        status = 422
    search = request.GET.get("q", "")[:254]
    context = {
        "form": form,
        "q": search,
        "entries": list(selectors.list_suppressions_for(user, search=search)[:200]),
    }
    return render(request, "nurture/mail/suppression_list.html", context, status=status)


@login_required
@require_POST
def suppression_remove(request: HttpRequest, entry_id: int) -> HttpResponse:
    user = _marketer(request)
    mail.remove_suppression(selectors.get_suppression_for(user, entry_id), by=user)
    messages.success(request, _("Address removed from the suppression list."))
    return redirect("nurture:mail-suppressions")


def _send_form(user: User, data: Any = None) -> SendForm:
    form = SendForm(data)
    choices = [
        (t.pk, f"{t.name} ({t.language})")
        for t in selectors.list_templates_for(user).filter(is_active=True)
    ]
    form.fields["template"].choices = choices  # type: ignore[attr-defined]
    return form


@login_required
def lead_messages(request: HttpRequest, lead_id: int) -> HttpResponse:
    """A lead's marketing mails, and a form to send one (marketing and admins)."""
    user = _marketer(request)
    lead = get_lead_for(user, lead_id)
    form = _send_form(user)
    status = 200
    if request.method == "POST":
        form = _send_form(user, request.POST)
        if form.is_valid():
            try:
                template = selectors.get_template_for(user, form.cleaned_data["template"])
                mail.send_marketing_email(lead, template, by=user)
            except LeadloopError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("The e-mail is queued."))
                return redirect("nurture:mail-lead-messages", lead_id=lead.pk)
        status = 422
    context = {
        "lead": lead,
        "form": form,
        "sent": list(selectors.list_lead_messages_for(user, lead.pk)[:100]),
    }
    return render(request, "nurture/mail/lead_messages.html", context, status=status)


# The raw mail shown on a returned mail's page, at most this many bytes (the rest is kept).
RAW_SHOWN_BYTES = 200_000


@login_required
@require_GET
def report_list(request: HttpRequest) -> HttpResponse:
    user = _marketer(request)
    unread = request.GET.get("show") == "unread"
    context = {
        "unread": unread,
        "reports": list(selectors.list_reports_for(user, unread=unread)[:200]),
        "unread_count": selectors.list_reports_for(user, unread=True).count(),
    }
    return render(request, "nurture/mail/report_list.html", context)


@login_required
@require_GET
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    """One returned mail, its raw text shown as text (never rendered)."""
    user = _marketer(request)
    report = selectors.get_report_for(user, report_id)
    raw = bytes(report.raw)
    context = {
        "report": report,
        "size": len(raw),
        "text": raw[:RAW_SHOWN_BYTES].decode("utf-8", errors="replace"),
        "cut": len(raw) > RAW_SHOWN_BYTES,
    }
    return render(request, "nurture/mail/report_detail.html", context)


@login_required
@require_POST
def report_read(request: HttpRequest, report_id: int) -> HttpResponse:
    user = _marketer(request)
    report = mail.read_again(selectors.get_report_for(user, report_id), by=user)
    if report.error:
        messages.error(request, _("The mail still cannot be read."))
    else:
        messages.success(request, _("The mail was read."))
    return redirect("nurture:mail-report", report_id=report.pk)
