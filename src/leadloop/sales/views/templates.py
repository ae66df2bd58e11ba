"""The e-mail templates page (sales managers and admins): the list with the placeholders a text
may use, adding, changing and deactivating a template."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import LeadloopError
from leadloop.sales.forms.templates import TemplateForm
from leadloop.sales.models import EmailTemplate
from leadloop.sales.selectors import templates as selectors
from leadloop.sales.services import templates as services
from leadloop.sales.services.contact import TEMPLATE_FIELDS

PLACEHOLDERS = [f"{{{name}}}" for name in TEMPLATE_FIELDS]


def _manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    require(user, Permission.MANAGE_FOLLOW_UP)
    return user


def _form_page(
    request: HttpRequest, form: TemplateForm, template: EmailTemplate | None, *, status: int = 200
) -> HttpResponse:
    context = {"form": form, "template": template, "placeholders": PLACEHOLDERS}
    return render(request, "sales/template_form.html", context, status=status)


@login_required
@require_GET
def template_list(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    context = {
        "templates": list(selectors.list_templates_for(user)),
        "placeholders": PLACEHOLDERS,
    }
    return render(request, "sales/template_list.html", context)


@login_required
def template_new(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    if request.method != "POST":
        initial = {"language": user.language or ""}
        return _form_page(request, TemplateForm(initial=initial), None)
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            services.create_template(by=user, **form.cleaned_data)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Template added."))
            return redirect("sales:template-list")
    return _form_page(request, form, None, status=422)


@login_required
def template_edit(request: HttpRequest, template_id: int) -> HttpResponse:
    user = _manager(request)
    template = selectors.get_template_to_manage(user, template_id)
    if request.method != "POST":
        initial = {name: getattr(template, name) for name in services.FIELDS}
        return _form_page(request, TemplateForm(initial=initial), template)
    form = TemplateForm(request.POST)
    if form.is_valid():
        try:
            services.update_template(template, by=user, **form.cleaned_data)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Template saved."))
            return redirect("sales:template-list")
    return _form_page(request, form, template, status=422)
