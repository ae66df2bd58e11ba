"""A source's channel settings page: feed address, FTP drop folder or mailbox, with a "test
connection" button that reaches the server without importing anything.

For marketing and admins, like the mapping editor; everyone else gets a 404. Stored passwords are
never put in the page: the field stays empty, "•••••• (set, changed <date>)" is said beside it,
and a "forget the stored password" box clears it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from leadloop.errors import LeadloopError
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.intake.channels import settings as channel_settings
from leadloop.intake.review.views import _actor, _get_source, _render
from leadloop.leads.models import ChannelKind, Source


def _settings_from_post(source: Source, post: Any) -> dict[str, Any]:
    """The form's fields ("ftp.host", "imap.ssl", …) as the service's settings document."""
    settings: dict[str, Any] = {}
    for section in channel_settings.sections_for(source):
        if section == "email_address":
            settings[section] = post.get("email_address", "")
        elif section == "email_rules":
            aliases = {}
            for line in post.get("email_rules.label_aliases", "").splitlines():
                label, sep, new = line.partition("=")
                if sep and label.strip():
                    aliases[label.strip()] = new.strip()
            settings[section] = {
                "body_start": post.get("email_rules.body_start", ""),
                "body_end": post.get("email_rules.body_end", ""),
                "ignore_labels": post.get("email_rules.ignore_labels", "").splitlines(),
                "label_aliases": aliases,
            }
        else:
            settings[section] = {
                key: (f"{section}.{key}" in post)
                if key in channel_settings._BOOLEANS
                else post.get(f"{section}.{key}", "")
                for key in channel_settings._FIELDS[section]
            }
    return settings


def _context(
    source: Source,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    values = values or channel_settings.channel_settings_for(source)
    rules = values.get("email_rules") or {}
    return {
        "source": source,
        "sections": channel_settings.sections_for(source),
        "values": values,
        # "ftp.host" → "ftp__host": a template cannot look up a key with a dot in it.
        "errors": {k.replace(".", "__"): v for k, v in (errors or {}).items()},
        # Whether a password is stored and when it changed; never the password.
        "secret_states": channel_secrets.secret_states(source),
        "ignore_labels_text": "\n".join(rules.get("ignore_labels") or []),
        "label_aliases_text": "\n".join(
            f"{k} = {v}" for k, v in (rules.get("label_aliases") or {}).items()
        ),
        "can_test": source.kind in (ChannelKind.RSS, ChannelKind.FTP, ChannelKind.EMAIL),
        "is_http_post": source.kind in (ChannelKind.HTTP_POST, ChannelKind.API),
        "is_web_form": source.kind == ChannelKind.WEB_FORM,
        "post_url": reverse("intake:receive", args=[f"{source.key_prefix}…"])
        if source.key_prefix
        else "",
    }


@login_required
def source_channel(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _get_source(request, source_id)
    template = "intake/channel/channel.html"
    if request.method != "POST":
        return _render(request, template, _context(source))
    settings = _settings_from_post(source, request.POST)
    try:
        channel_settings.set_channel_settings(source, settings=settings, by=_actor(request))
    except LeadloopError as exc:
        values = {**channel_settings.channel_settings_for(source), **settings}
        context = _context(source, values=values, errors=exc.errors)
        context["form_error"] = exc.detail
        return _render(request, template, context, status=exc.status)
    messages.success(request, _("Channel settings saved."))
    return redirect("intake:source-channel", source_id=source.pk)


@login_required
@require_POST
def source_channel_test(request: HttpRequest, source_id: int) -> HttpResponse:
    source = _get_source(request, source_id)
    check = channel_settings.check_connection(source, by=_actor(request))
    (messages.success if check.ok else messages.error)(request, check.message)
    return redirect("intake:source-channel", source_id=source.pk)
