"""Taking in what a visitor sends through a web form: checks, then the one intake.

Every post is stored raw first (`intake.services.receive`), also an invalid one or a bot's; only
a post over the per-IP rate limit is not stored (a flood must not fill the database), and it
leaves a count on the form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.errors import Conflict
from leadloop.intake import services as intake_services
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.web_forms.models import FieldInput, LeadForm
from leadloop.intake.web_forms.parser import WEB_FORM_CHANNEL
from leadloop.intake.web_forms.services.languages import field_text, form_texts
from leadloop.intake.web_forms.services.tokens import (
    CLIENT_FIELDS,
    CONSENT,
    HONEYPOT,
    TOKEN,
    RenderToken,
    _now_ms,
    read_token,
)
from leadloop.intake.web_forms.services.wording import visitor_text
from leadloop.leads.normalize import InvalidValue, normalize_email

logger = logging.getLogger(__name__)

# Different bodies accepted from one render of a form (a person correcting and resending).
MAX_VARIANTS_PER_TOKEN = 3
# A person needs more than two seconds to read and fill a form; scripts do not.
MIN_SECONDS_TO_SUBMIT = 2
RATE_LIMIT = 10
RATE_WINDOW = dt.timedelta(minutes=10)
MAX_VALUE_LENGTH = 5000
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


@dataclass(frozen=True)
class ClientInfo:
    """What the server itself knows about the visitor's request (never taken from the body)."""

    ip: str = ""
    user_agent: str = ""
    query: Mapping[str, str] = field(default_factory=dict)
    page_url: str = ""
    embedded: bool = False


@dataclass
class SubmitResult:
    """How a post ended: thanked (a lead, a bot, a quarantine), shown again, or rate limited."""

    outcome: str  # "thanks" | "invalid" | "rate_limited"
    submission: RawSubmission | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)
    form_errors: list[str] = field(default_factory=list)
    token: RenderToken | None = None


def is_rate_limited(form: LeadForm, *, ip: str, now: dt.datetime | None = None) -> bool:
    """Whether this IP sent RATE_LIMIT posts to this form in the last RATE_WINDOW.

    Counted from the stored submissions in the database, so every web process sees the same.
    """
    since = (now or timezone.now()) - RATE_WINDOW
    sent = RawSubmission.objects.filter(
        source_id=form.source_id,
        channel=WEB_FORM_CHANNEL,
        received_at__gte=since,
        meta__form_id=form.pk,
        meta__ip=ip,
    ).count()
    return sent >= RATE_LIMIT


def _check_values(form: LeadForm, posted: Mapping[str, str]) -> dict[str, list[str]]:
    """Errors a person can fix in the form (required, e-mail shape, choices, consent)."""
    errors: dict[str, list[str]] = {}
    for item in form.fields.all():
        if item.is_hidden:
            continue
        value = (posted.get(item.name) or "").strip()
        if item.input_type == FieldInput.CHECKBOX:
            if item.is_required and not value:
                errors[item.name] = [_("Tick this box to continue.")]
            continue
        if not value:
            if item.is_required:
                errors[item.name] = [_("This field is required.")]
            continue
        if len(value) > MAX_VALUE_LENGTH:
            errors[item.name] = [_("Keep this under %(n)d characters.") % {"n": MAX_VALUE_LENGTH}]
        elif item.input_type == FieldInput.EMAIL:
            # The check every other way in uses (leads.normalize), so a form never accepts an
            # address the lead would then be refused or quarantined for.
            try:
                normalize_email(value)
            except InvalidValue:
                errors[item.name] = [_("Enter an e-mail address like name@example.com.")]
        elif item.input_type == FieldInput.SELECT and value not in item.choice_list:
            errors[item.name] = [_("Choose one of the options.")]
    if form.has_consent and form.is_consent_required and not posted.get(CONSENT):
        errors[CONSENT] = [visitor_text(form, "consent_required")]
    return errors


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(str(value)) if value not in (None, "") else None
    except ValueError:
        return None


def _meta(
    form: LeadForm,
    *,
    posted: Mapping[str, str],
    client: ClientInfo,
    token: RenderToken | None,
    now: dt.datetime,
    language: str,
) -> dict[str, Any]:
    reported = {
        meta_name: str(posted.get(name, ""))[:2000] for name, meta_name in CLIENT_FIELDS.items()
    }
    server_ms = _now_ms(now) - token.rendered_ms if token else None
    render_referrer = token.referrer if token else ""
    meta: dict[str, Any] = {
        "form_id": form.pk,
        "form_slug": form.slug,
        "form_fields": [
            [f.name, f.target, f.input_type, f.choices if f.is_hidden else ""]
            for f in form.fields.all()
        ],
        "ip": client.ip,
        "user_agent": client.user_agent[:500],
        # The referrer of the page that showed the form (kept in the signed token), unless the
        # page's script saw the embedding page's own referrer.
        "referrer": reported["referrer"] or render_referrer,
        "render_referrer": render_referrer,
        "landing_page": reported["landing_page"]
        or (render_referrer if client.embedded else client.page_url),
        "embedded": client.embedded,
        "token_valid": token is not None,
        "rendered_at": (
            dt.datetime.fromtimestamp(token.rendered_ms / 1000, tz=dt.UTC).isoformat()
            if token
            else None
        ),
        # Measured by the server between the signed render time and this post: not forgeable.
        "time_to_submit_ms": server_ms,
        "client_time_to_submit_ms": _int_or_none(reported["client_time_to_submit_ms"]),
        # A hash of stable navigator/screen properties made by the page's script: a hint that
        # two posts came from one device, not an identity, and absent without JavaScript.
        "fingerprint": reported["fingerprint"][:128],
        "fingerprint_kind": "client-hash:navigator+screen" if reported["fingerprint"] else "",
        "headless": {
            "webdriver": reported["webdriver"] == "1",
            "plugins": _int_or_none(reported["plugins"]),
            "languages": _int_or_none(reported["languages"]),
            "headless_user_agent": reported["headless_user_agent"] == "1"
            or "headless" in client.user_agent.lower(),
            "script_ran": bool(reported["fingerprint"]),
        },
        "honeypot_filled": bool((posted.get(HONEYPOT) or "").strip()),
        # The language the visitor read the form in: the lead's language for later mails.
        "language": language,
    }
    for name in UTM:
        value = client.query.get(name, "")
        if value:
            meta[name] = str(value)[:200]
    if form.has_consent:
        given = bool(posted.get(CONSENT))
        meta["consent"] = {
            "shown": True,
            "required": form.is_consent_required,
            "version": form.consent_version,
            # The wording the visitor agreed to, in the language they read it in.
            "text": form_texts(form, language).consent_text,
            "language": language,
            "purpose": form.consent_purpose or form.title,
            "given": given,
            "at": now.isoformat() if given else None,
            "ip": client.ip,
            "user_agent": client.user_agent[:500],
        }
    return meta


def _reject_unprocessed(submission_id: int, *, reasons: list[dict[str, str]]) -> RawSubmission:
    """Reject a stored post before it becomes a lead (invalid form, a bot); no lead is made.

    A person may still reprocess it from the review pages. Idempotent like process_submission.
    """
    from leadloop.intake import channels

    submission = RawSubmission.objects.get(pk=submission_id)
    try:
        records = channels.parse(submission)
    except channels.ParseError:
        records = []
    return intake_services.settle(
        submission_id,
        state=SubmissionState.REJECTED,
        reasons=reasons,
        fields=records[0] if records else {},
    )


def _reason(code: str, message: str, name: str = "") -> dict[str, str]:
    reason = {"code": code, "message": message}
    if name:
        reason["field"] = name
    return reason


def submit(
    form: LeadForm,
    *,
    body: bytes,
    content_type: str,
    posted: Mapping[str, str],
    client: ClientInfo,
    language: str = "",
) -> SubmitResult:
    """Take one post of a web form through the one intake and say how it ended.

    Stored raw first, whatever it holds. A filled honeypot is rejected silently (the sender is
    thanked as usual); a form with errors is rejected with the reasons and shown again; a
    complete form sent within two seconds of the render is rejected silently; otherwise it is
    processed into a lead. The render token's
    nonce is the idempotency key, so a double click makes one lead.

    `language` is the one the visitor saw the form in (the form's default when empty); the
    caller activates it, so the errors a person reads are in that language too.
    """
    language = language if language in form.enabled_languages else form.language
    now = timezone.now()
    if is_rate_limited(form, ip=client.ip, now=now):
        LeadForm.objects.filter(pk=form.pk).update(rate_limited_count=F("rate_limited_count") + 1)
        logger.info("web form rate limited form=%s ip=%s", form.pk, client.ip)
        return SubmitResult("rate_limited")
    token = read_token(form, str(posted.get(TOKEN, "")), now=now)
    meta = _meta(form, posted=posted, client=client, token=token, now=now, language=language)
    key = f"web_form:{token.nonce}" if token else ""
    try:
        submission = intake_services.receive(
            source=form.source,
            channel=WEB_FORM_CHANNEL,
            body=body,
            content_type=content_type,
            meta=meta,
            idempotency_key=key,
        )
    except Conflict:
        # The same render posted again with other values (the back button): a new post of its
        # own, still safe against its own double click. A few corrections are human; more from
        # one render is a script replaying a token, so those are stored but make no lead.
        variants = RawSubmission.objects.filter(
            source=form.source, idempotency_key__startswith=f"{key}:"
        ).count()
        meta = {**meta, "token_replayed": variants >= MAX_VARIANTS_PER_TOKEN}
        submission = intake_services.receive(
            source=form.source,
            channel=WEB_FORM_CHANNEL,
            body=body,
            content_type=content_type,
            meta=meta,
            idempotency_key=f"{key}:{hashlib.sha256(body).hexdigest()[:16]}",
        )
    meta = submission.meta  # a repeat answers as the first post was judged
    fresh_token = token or RenderToken(form.pk, _now_ms(now), "", "")
    if meta.get("honeypot_filled"):
        done = _reject_unprocessed(
            submission.pk, reasons=[_reason("honeypot", _("A hidden trap field was filled in."))]
        )
        return SubmitResult("thanks", done)
    if meta.get("token_replayed"):
        done = _reject_unprocessed(
            submission.pk,
            reasons=[_reason("replayed", _("One form view was sent with too many bodies."))],
        )
        return SubmitResult("thanks", done)
    errors = _check_values(form, posted)
    form_errors = []
    if token is None:
        form_errors.append(visitor_text(form, "expired"))
    if errors or form_errors:
        reasons = [
            _reason("invalid_form", message, name)
            for name, messages in errors.items()
            for message in messages
        ] + [_reason("bad_token", message) for message in form_errors]
        done = _reject_unprocessed(submission.pk, reasons=reasons)
        return SubmitResult("invalid", done, errors, form_errors, fresh_token)
    elapsed = meta.get("time_to_submit_ms")
    if elapsed is not None and elapsed < MIN_SECONDS_TO_SUBMIT * 1000:
        done = _reject_unprocessed(
            submission.pk,
            reasons=[
                _reason(
                    "too_fast",
                    _("Sent %(ms)d ms after the form was shown; people need longer.")
                    % {"ms": elapsed},
                )
            ],
        )
        return SubmitResult("thanks", done)
    done = intake_services.process_submission(submission.pk)
    if done.state == SubmissionState.REJECTED and all(
        reason.get("code") == "fraud" for reason in done.reasons
    ):
        # Refused by the fraud screen: like the honeypot, a bot is not told why (the reasons
        # are in the review queue for a person).
        return SubmitResult("thanks", done)
    if done.state == SubmissionState.REJECTED:
        names = {f.name for f in form.fields.all()}
        field_errors: dict[str, list[str]] = {}
        for reason in done.reasons:
            if reason.get("field") in names:
                field_errors.setdefault(reason["field"], []).append(reason["message"])
            elif reason.get("code") != "invalid_form":
                form_errors.append(reason["message"])
        return SubmitResult("invalid", done, field_errors, form_errors, fresh_token)
    return SubmitResult("thanks", done)


def summary(
    form: LeadForm, submission: RawSubmission, *, language: str = ""
) -> list[tuple[str, str]]:
    """What the person sent, as (question, answer) for the thank-you page."""
    values = submission.fields or {}
    rows = []
    for item in form.fields.all():
        if item.is_hidden or item.name not in values:
            continue
        label = field_text(item, "label", form=form, language=language or form.language)
        rows.append((label, str(values[item.name])))
    return rows
