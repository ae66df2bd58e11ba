"""Web form pages: the builder (marketing, admins) and the public hosted form at /f/<slug>/.

The public pages may be framed by any site (the embed snippets); every other page keeps
X-Frame-Options: DENY. They post across sites inside an iframe, so a signed per-render token
takes the place of Django's CSRF cookie.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt, xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.selectors import can_manage_configuration
from leadloop.core import csp
from leadloop.core.client_ip import client_ip
from leadloop.errors import LeadloopError
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.forms import FieldForm, FormSettingsForm
from leadloop.intake.web_forms.models import FormField, LeadForm
from leadloop.leads.models import ChannelKind, Source

# --- Builder views -------------------------------------------------------------------------------


def _configurer(request: HttpRequest) -> Any:
    if not can_manage_configuration(request.user):  # type: ignore[arg-type]
        raise PermissionDenied(_("Only marketing and admins can build web forms."))
    return request.user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _share(request: HttpRequest, form: LeadForm) -> dict[str, str]:
    hosted = request.build_absolute_uri(reverse("intake:form-hosted", args=[form.slug]))
    script = request.build_absolute_uri(reverse("intake:form-embed-js", args=[form.slug]))
    return {
        "hosted_url": hosted,
        "script_snippet": f'<script src="{script}" async></script>',
        "iframe_snippet": (
            f'<iframe src="{hosted}?embed=1" title="{escape(form.title)}" loading="lazy" '
            'style="width:100%;min-height:640px;border:0"></iframe>'
        ),
    }


@login_required
@require_GET
def form_list(request: HttpRequest) -> HttpResponse:
    _configurer(request)
    rows = LeadForm.objects.select_related("source").order_by("title")
    context = {
        "forms": [(form, _share(request, form)["hosted_url"]) for form in rows],
        "has_source": Source.objects.filter(kind=ChannelKind.WEB_FORM).exists(),
    }
    return _render(request, "intake/forms/form_list.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def form_create(request: HttpRequest) -> HttpResponse:
    actor = _configurer(request)
    form = FormSettingsForm(request.POST or None, initial=FormSettingsForm.initial_new())
    if request.method == "POST" and form.is_valid():
        try:
            created = web_forms.create_form(by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Form “%(title)s” created.") % {"title": created.title})
            return redirect("intake:form-edit", form_id=created.pk)
    return _render(
        request,
        "intake/forms/form_create.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


def _edit_context(request: HttpRequest, lead_form: LeadForm, **extra: Any) -> dict[str, Any]:
    fields = list(lead_form.fields.all())
    return {
        "lead_form": lead_form,
        "fields": fields,
        "rows": [(f, web_forms.missing_languages(f, form=lead_form)) for f in fields],
        "missing": web_forms.missing_texts(lead_form, fields),
        "previews": [(code, web_forms.language_name(code)) for code in lead_form.enabled_languages],
        "warnings": web_forms.form_warnings(lead_form),
        "share": _share(request, lead_form),
        "field_form": extra.pop("field_form", None) or FieldForm(prefix="new"),
        **extra,
    }


@login_required
@require_http_methods(["GET", "POST"])
def form_edit(request: HttpRequest, form_id: int) -> HttpResponse:
    actor = _configurer(request)
    lead_form = get_object_or_404(LeadForm.objects.select_related("source"), pk=form_id)
    form = FormSettingsForm(
        request.POST or None, initial=FormSettingsForm.initial_for(lead_form), lead_form=lead_form
    )
    if request.method == "POST" and form.is_valid():
        try:
            web_forms.update_form(lead_form, by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Form saved."))
            return redirect("intake:form-edit", form_id=lead_form.pk)
    return _render(
        request,
        "intake/forms/form_edit.html",
        _edit_context(request, lead_form, form=form),
        status=422 if form.errors else 200,
    )


def _fields_answer(request: HttpRequest, lead_form: LeadForm, **extra: Any) -> HttpResponse:
    """The field list fragment for HTMX, or back to the edit page without JavaScript."""
    status = extra.pop("status", 200)
    if _is_htmx(request):
        return _render(
            request,
            "intake/forms/_fields.html",
            _edit_context(request, lead_form, **extra),
            status=status,
        )
    if status != 200:
        settings_form = FormSettingsForm(
            initial=FormSettingsForm.initial_for(lead_form), lead_form=lead_form
        )
        return _render(
            request,
            "intake/forms/form_edit.html",
            _edit_context(request, lead_form, form=settings_form, **extra),
            status=status,
        )
    return redirect(reverse("intake:form-edit", args=[lead_form.pk]) + "#fields")


@login_required
@require_POST
def field_add(request: HttpRequest, form_id: int) -> HttpResponse:
    actor = _configurer(request)
    lead_form = get_object_or_404(LeadForm, pk=form_id)
    field_form = FieldForm(request.POST, prefix="new")
    if field_form.is_valid():
        try:
            web_forms.add_field(lead_form, by=actor, **field_form.service_data())
        except LeadloopError as exc:
            field_form.apply_service_error(exc)
        else:
            return _fields_answer(request, lead_form)
    return _fields_answer(request, lead_form, field_form=field_form, status=422)


def _get_field(form_id: int, field_id: int) -> FormField:
    return get_object_or_404(FormField.objects.select_related("form"), pk=field_id, form_id=form_id)


@login_required
@require_http_methods(["GET", "POST"])
def field_edit(request: HttpRequest, form_id: int, field_id: int) -> HttpResponse:
    actor = _configurer(request)
    field = _get_field(form_id, field_id)
    form = FieldForm(
        request.POST or None,
        initial=FieldForm.initial_for(field),
        lead_form=field.form,
        field=field,
    )
    if request.method == "POST" and form.is_valid():
        try:
            web_forms.update_field(field, by=actor, **form.service_data())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Question saved."))
            return redirect(reverse("intake:form-edit", args=[form_id]) + "#fields")
    return _render(
        request,
        "intake/forms/field_edit.html",
        {"form": form, "field": field, "lead_form": field.form},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def field_move(request: HttpRequest, form_id: int, field_id: int) -> HttpResponse:
    actor = _configurer(request)
    field = _get_field(form_id, field_id)
    web_forms.move_field(field, by=actor, up=request.POST.get("direction") == "up")
    return _fields_answer(request, field.form)


@login_required
@require_POST
def field_remove(request: HttpRequest, form_id: int, field_id: int) -> HttpResponse:
    actor = _configurer(request)
    field = _get_field(form_id, field_id)
    web_forms.remove_field(field, by=actor)
    return _fields_answer(request, field.form)


@login_required
@require_GET
@xframe_options_sameorigin
def form_preview(request: HttpRequest, form_id: int) -> HttpResponse:
    _configurer(request)
    lead_form = get_object_or_404(LeadForm, pk=form_id)
    # Shown in an iframe on the builder page, so framed by this site only.
    return csp.relax(_public_page(request, lead_form, preview=True), frame_ancestors=["'self'"])


# --- Public pages --------------------------------------------------------------------------------


def _frameable(response: HttpResponse, lead_form: LeadForm) -> HttpResponse:
    # The sites the operator allows (any, by default) may embed the form; browsers that know CSP
    # read frame-ancestors, not XFO. Browsers hold the redirect after a post to form-action, so
    # the form's own thank-you page elsewhere is allowed too.
    actions = ["'self'"]
    origin = csp.origin_of(lead_form.redirect_url) if lead_form.redirect_url else None
    if origin:
        actions.append(origin)
    return csp.relax(
        response,
        frame_ancestors=settings.LEADLOOP_FORM_FRAME_ANCESTORS,
        form_action=actions,
    )


def _language(request: HttpRequest, lead_form: LeadForm) -> str:
    """The language this visitor sees the form in (see services.languages.choose_language)."""
    asked = request.POST.get(web_forms.LANGUAGE, "") if request.method == "POST" else ""
    return web_forms.choose_language(
        lead_form,
        asked=asked or request.GET.get("lang", ""),
        page=request.GET.get(web_forms.PAGE_LANGUAGE, ""),
        accept=request.META.get("HTTP_ACCEPT_LANGUAGE", ""),
    )


def _public_response(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # The page's language follows the browser's Accept-Language.
    patch_vary_headers(response, ["Accept-Language"])
    return response


def _active_form(slug: str) -> LeadForm:
    lead_form = LeadForm.objects.select_related("source").filter(slug=slug).first()
    if lead_form is None or not lead_form.is_active or not lead_form.source.is_active:
        raise Http404(_("This form does not exist or is closed."))
    return lead_form


def _questions(
    lead_form: LeadForm, values: Any, errors: dict[str, list[str]], *, language: str
) -> list[dict[str, Any]]:
    questions = []
    for item in lead_form.fields.all():
        html_id = f"q-{item.name}".replace(".", "-")
        help_text = web_forms.field_text(item, "help_text", form=lead_form, language=language)
        described = []
        if help_text:
            described.append(f"{html_id}-help")
        if errors.get(item.name):
            described.append(f"{html_id}-error")
        questions.append(
            {
                "field": item,
                "label": web_forms.field_text(item, "label", form=lead_form, language=language),
                "help": help_text,
                "id": html_id,
                "value": values.get(item.name, "") if values else "",
                "errors": errors.get(item.name, []),
                "describedby": " ".join(described),
                "autocomplete": AUTOCOMPLETE.get(item.target, "on"),
            }
        )
    return questions


AUTOCOMPLETE = {
    "first_name": "given-name",
    "last_name": "family-name",
    "full_name": "name",
    "email": "email",
    "phone": "tel",
    "company_name": "organization",
    "job_title": "organization-title",
    "street": "address-line1",
    "postal_code": "postal-code",
    "city": "address-level2",
    "region": "address-level1",
    "country": "country-name",
    "comments": "off",
}


def _public_page(
    request: HttpRequest,
    lead_form: LeadForm,
    *,
    preview: bool = False,
    values: Any = None,
    result: web_forms.SubmitResult | None = None,
    status: int = 200,
) -> HttpResponse:
    errors = result.errors if result else {}
    token = web_forms.issue_token(
        lead_form,
        referrer=request.META.get("HTTP_REFERER", "")[:1000],
        first=result.token if result else None,
    )
    language = _language(request, lead_form)
    with translation.override(language):
        context = {
            "lead_form": lead_form,
            "texts": web_forms.form_texts(lead_form, language),
            "wording": web_forms.visitor_texts(lead_form),
            "questions": _questions(lead_form, values, errors, language=language),
            "errors": errors,
            "form_errors": result.form_errors if result else [],
            "consent_error": errors.get(web_forms.CONSENT, []),
            "consent_checked": bool(values and values.get(web_forms.CONSENT)),
            "token": token,
            "embedded": request.GET.get("embed") == "1",
            "preview": preview,
            "action": request.get_full_path(),
            "names": {
                "token": web_forms.TOKEN,
                "honeypot": web_forms.HONEYPOT,
                "consent": web_forms.CONSENT,
                "language": web_forms.LANGUAGE,
            },
        }
        response = render(request, "intake/forms/hosted.html", context, status=status)
    return _public_response(response)


def _client(request: HttpRequest) -> web_forms.ClientInfo:
    query = {name: request.GET.get(name, "") for name in web_forms.UTM}
    page = request.build_absolute_uri(request.path)
    return web_forms.ClientInfo(
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        query=query,
        page_url=page,
        embedded=request.GET.get("embed") == "1",
    )


@csrf_exempt  # the signed per-render token stands in for the CSRF cookie (see module docstring)
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
def hosted_form(request: HttpRequest, slug: str) -> HttpResponse:
    lead_form = _active_form(slug)
    if request.method == "GET":
        return _frameable(_public_page(request, lead_form), lead_form)
    body = request.body  # read before request.POST: stored exactly as it came
    language = _language(request, lead_form)
    # The checks' messages are read by the visitor: in the form's language, like its labels.
    with translation.override(language):
        result = web_forms.submit(
            lead_form,
            body=body,
            content_type=request.META.get("CONTENT_TYPE", ""),
            posted=request.POST.dict(),
            client=_client(request),
            language=language,
        )
    if result.outcome == "rate_limited":
        with translation.override(language):
            response = render(
                request,
                "intake/forms/rate_limited.html",
                {
                    "lead_form": lead_form,
                    "texts": web_forms.form_texts(lead_form, language),
                    "wording": web_forms.visitor_texts(lead_form),
                },
                status=429,
            )
        response["Retry-After"] = str(int(web_forms.RATE_WINDOW.total_seconds()))
        return _frameable(response, lead_form)
    if result.outcome == "invalid":
        return _frameable(
            _public_page(request, lead_form, values=request.POST, result=result, status=422),
            lead_form,
        )
    assert result.submission is not None
    embedded = request.GET.get("embed") == "1"
    if lead_form.redirect_url and not embedded:
        return redirect(lead_form.redirect_url)
    thanks = reverse("intake:form-thanks", args=[lead_form.slug])
    query = f"?s={web_forms.thanks_token(result.submission)}&lang={language}"
    if request.GET.get("embed") == "1":
        query += "&embed=1"
    response = redirect(thanks + query)
    response.status_code = 303
    return response


@xframe_options_exempt
@require_GET
def form_thanks(request: HttpRequest, slug: str) -> HttpResponse:
    lead_form = _active_form(slug)
    submission = web_forms.submission_for_thanks(lead_form, request.GET.get("s", ""))
    language = _language(request, lead_form)
    with translation.override(language):
        context = {
            "lead_form": lead_form,
            "texts": web_forms.form_texts(lead_form, language),
            "wording": web_forms.visitor_texts(lead_form),
            "rows": (
                web_forms.summary(lead_form, submission, language=language) if submission else []
            ),
            "embedded": request.GET.get("embed") == "1",
            "redirect_url": lead_form.redirect_url,
        }
        response = render(request, "intake/forms/thanks.html", context)
    return _frameable(_public_response(response), lead_form)


@require_GET
def form_embed_js(request: HttpRequest, slug: str) -> HttpResponse:
    lead_form = _active_form(slug)
    hosted = request.build_absolute_uri(reverse("intake:form-hosted", args=[lead_form.slug]))
    response = render(
        request,
        "intake/forms/embed.js",
        {"hosted_url": hosted, "title": lead_form.title, "slug": lead_form.slug},
        content_type="text/javascript; charset=utf-8",
    )
    response["Cache-Control"] = "public, max-age=300"
    response["Access-Control-Allow-Origin"] = "*"
    return response
