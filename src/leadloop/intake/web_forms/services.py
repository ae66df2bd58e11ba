"""Web forms: build them (marketing), and take in what a visitor sends through the one intake.

    form = create_form(source=…, title=…, slug=…, by=user)
    token = issue_token(form, referrer=…)                      # per render, signed
    result = submit(form, body=…, posted=…, client=…, …)       # store raw → check → process

Every post is stored raw first (`intake.services.receive`), also an invalid one or a bot's; only
a post over the per-IP rate limit is not stored (a flood must not fill the database), and it
leaves a count on the form.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import Conflict, ValidationFailed
from leadloop.intake import services as intake_services
from leadloop.intake.mapping import EXTRA, TARGETS
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.synonyms import field_for_label
from leadloop.intake.web_forms.models import FieldInput, FormField, LeadForm
from leadloop.intake.web_forms.parser import WEB_FORM_CHANNEL
from leadloop.leads.models import ChannelKind, Source
from leadloop.leads.normalize import InvalidValue, normalize_email

logger = logging.getLogger(__name__)

TOKEN_SALT = "leadloop.intake.web_form.render"  # noqa: S105 (a namespace, not a secret)
THANKS_SALT = "leadloop.intake.web_form.thanks"
TOKEN_MAX_AGE = dt.timedelta(hours=24)
# Different bodies accepted from one render of a form (a person correcting and resending).
MAX_VARIANTS_PER_TOKEN = 3
THANKS_MAX_AGE = dt.timedelta(hours=1)
# A person needs more than two seconds to read and fill a form; scripts do not.
MIN_SECONDS_TO_SUBMIT = 2
RATE_LIMIT = 10
RATE_WINDOW = dt.timedelta(minutes=10)
MAX_VALUE_LENGTH = 5000
UTM = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")

# Names of the technical inputs; they go to the submission's meta, never into the lead record.
TOKEN = "_ll_token"  # noqa: S105 (an input name)
HONEYPOT = "homepage"
CONSENT = "_ll_consent"
CLIENT_FIELDS = {
    "_ll_fp": "fingerprint",
    "_ll_webdriver": "webdriver",
    "_ll_plugins": "plugins",
    "_ll_languages": "languages",
    "_ll_headless_ua": "headless_user_agent",
    "_ll_ttsm": "client_time_to_submit_ms",
    "_ll_landing": "landing_page",
    "_ll_referrer": "referrer",
}
RESERVED_NAMES = {TOKEN, HONEYPOT, CONSENT, "lang", "embed", *CLIENT_FIELDS}

# Lead fields a form may fill (from intake.mapping.TARGETS); the rest are set by the pipeline
# (consent, scores, dates) or are not something a visitor types.
FORM_TARGETS = (
    "first_name", "last_name", "full_name", "email", "phone", "company_name", "job_title",
    "street", "house_number", "postal_code", "city", "region", "country", "language",
    "comments", "campaign", "bant_budget", "bant_authority", "bant_need", "bant_timeframe",
    "potential_revenue", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content",
    "referrer", "landing_page",
)  # fmt: skip
assert set(FORM_TARGETS) <= TARGETS
TARGET_LABELS = {
    "first_name": gettext_lazy("First name"),
    "last_name": gettext_lazy("Last name"),
    "full_name": gettext_lazy("Full name (split into first and last)"),
    "email": gettext_lazy("E-mail"),
    "phone": gettext_lazy("Phone"),
    "company_name": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "street": gettext_lazy("Street"),
    "house_number": gettext_lazy("House number"),
    "postal_code": gettext_lazy("Postal code"),
    "city": gettext_lazy("City"),
    "region": gettext_lazy("Region"),
    "country": gettext_lazy("Country"),
    "language": gettext_lazy("Language"),
    "comments": gettext_lazy("Comments"),
    "campaign": gettext_lazy("Campaign (by name)"),
    "bant_budget": gettext_lazy("BANT: budget"),
    "bant_authority": gettext_lazy("BANT: authority"),
    "bant_need": gettext_lazy("BANT: need"),
    "bant_timeframe": gettext_lazy("BANT: timeframe"),
    "potential_revenue": gettext_lazy("Potential revenue"),
    "utm_source": gettext_lazy("UTM source"),
    "utm_medium": gettext_lazy("UTM medium"),
    "utm_campaign": gettext_lazy("UTM campaign"),
    "utm_term": gettext_lazy("UTM term"),
    "utm_content": gettext_lazy("UTM content"),
    "referrer": gettext_lazy("Referrer"),
    "landing_page": gettext_lazy("Landing page"),
}
EXTRA_PREFIX = "extra:"
CONSENT_TARGETS = ("consent_purpose", "consent_at", "consent_text_version")
STARTER_FIELDS = (
    ("first_name", FieldInput.TEXT, True),
    ("last_name", FieldInput.TEXT, True),
    ("email", FieldInput.EMAIL, True),
    ("phone", FieldInput.TEL, False),
    ("comments", FieldInput.TEXTAREA, False),
)


def _full_clean(instance: LeadForm | FormField, *, exclude: list[str] | None = None) -> None:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValidationFailed(
            _("Please correct the fields marked below."),
            errors={
                name: [str(m) for m in messages] for name, messages in exc.message_dict.items()
            },
        ) from exc


# --- Building forms ------------------------------------------------------------------------------


def field_name_for(target: str) -> str:
    """The input name of a field: the lead field itself, or the extra field's own name."""
    return target[len(EXTRA_PREFIX) :] if target.startswith(EXTRA_PREFIX) else target


def target_errors(target: str) -> list[str]:
    """Why `target` cannot be filled by a form field (empty when it can)."""
    if target.startswith(EXTRA_PREFIX):
        name = target[len(EXTRA_PREFIX) :]
        if not name or len(name) > 60 or not all(ch.isalnum() or ch in "_-." for ch in name):
            return [_("Give the extra field a name of letters, digits, '-', '_' or '.'.")]
        if name in TARGETS or name in RESERVED_NAMES or name.startswith("_"):
            return [_("This name is taken; choose the lead field itself or another name.")]
        return []
    if target not in FORM_TARGETS:
        return [_("Choose a lead field or an extra field.")]
    return []


def _mapping_entries(form: LeadForm) -> dict[str, str]:
    """Labels of this form the mapping would not route to their target by name alone."""
    entries: dict[str, str] = {}
    names = [(f.name, f.target) for f in form.fields.all()]
    for name, target in names:
        wanted = EXTRA if target.startswith(EXTRA_PREFIX) else target
        if wanted == EXTRA or field_for_label(name) != wanted:
            entries[name] = wanted
    for target in CONSENT_TARGETS:
        entries[target] = target
    return entries


def _ensure_mapping(form: LeadForm, *, by: Actor) -> None:
    """Let the source's mapping read this form's labels as the fields they were built for.

    Labels a synonym already routes right need no entry; a person's own entry for a label is
    kept, so a mapping fix in the UI still wins.
    """
    source = Source.objects.select_for_update().get(pk=form.source_id)
    current = dict((source.field_mapping or {}).get("fields") or {})
    missing = {k: v for k, v in _mapping_entries(form).items() if k not in current}
    if missing:
        intake_services.set_mapping(source, mapping={"fields": {**current, **missing}}, by=by)


def _audit_form(form: LeadForm, *, by: Actor, change: str, **data: Any) -> None:
    record_audit(
        actor=by,
        action=AuditAction.FORM_CHANGED,
        target_type=AuditTarget.FORM,
        target_id=form.pk,
        target_label=form.slug,
        data={"change": change, **data},
    )


@transaction.atomic
def create_form(
    *,
    source: Source,
    by: Actor,
    title: str,
    slug: str,
    with_starter_fields: bool = True,
    **data: Any,
) -> LeadForm:
    """A new web form on a web-form source, with the usual contact fields to start from."""
    require(by, Permission.MANAGE_WEB_FORMS)
    if source.kind != ChannelKind.WEB_FORM:
        raise ValidationFailed(
            _("A form belongs to a source of the kind web form."),
            errors={"source": [_("Choose a source of the kind web form.")]},
        )
    form = LeadForm(source=source, title=title, slug=slug, **data)
    if not form.submit_label:
        form.submit_label = ""
    _full_clean(form)
    form.save()
    if with_starter_fields:
        for position, (target, input_type, required) in enumerate(STARTER_FIELDS):
            FormField.objects.create(
                form=form,
                position=position,
                name=target,
                target=target,
                label=str(TARGET_LABELS[target]),
                input_type=input_type,
                is_required=required,
            )
    _ensure_mapping(form, by=by)
    _audit_form(form, by=by, change="created")
    logger.info("web form created id=%s slug=%s", form.pk, form.slug)
    return form


@transaction.atomic
def update_form(form: LeadForm, *, by: Actor, **data: Any) -> LeadForm:
    """Change a form's settings (text, consent, thank-you page, source, active)."""
    require(by, Permission.MANAGE_WEB_FORMS)
    locked = LeadForm.objects.select_for_update().get(pk=form.pk)
    for name, value in data.items():
        setattr(locked, name, value)
    if "source" in data and locked.source.kind != ChannelKind.WEB_FORM:
        raise ValidationFailed(
            _("A form belongs to a source of the kind web form."),
            errors={"source": [_("Choose a source of the kind web form.")]},
        )
    _full_clean(locked)
    locked.save()
    _ensure_mapping(locked, by=by)
    _audit_form(locked, by=by, change="settings", fields=sorted(data))
    return locked


def _check_field(field: FormField) -> None:
    errors: dict[str, list[str]] = {}
    problems = target_errors(field.target)
    if problems:
        errors["target"] = problems
    if field.input_type == FieldInput.SELECT and not field.choice_list:
        errors["choices"] = [_("A choice list needs at least one choice, one per line.")]
    if (
        FormField.objects.filter(form_id=field.form_id, name=field.name)
        .exclude(pk=field.pk)
        .exists()
    ):
        errors["target"] = [_("Another field of this form already fills this.")]
    if errors:
        raise ValidationFailed(_("Please correct the fields marked below."), errors=errors)
    _full_clean(field, exclude=["form"])


@transaction.atomic
def add_field(form: LeadForm, *, by: Actor, **data: Any) -> FormField:
    """Add a question at the end of the form."""
    require(by, Permission.MANAGE_WEB_FORMS)
    LeadForm.objects.select_for_update().get(pk=form.pk)
    last = form.fields.aggregate(last=Max("position"))["last"]
    field = FormField(form=form, position=0 if last is None else last + 1, **data)
    field.name = field_name_for(field.target)
    _check_field(field)
    field.save()
    _ensure_mapping(form, by=by)
    LeadForm.objects.filter(pk=form.pk).update(updated_at=timezone.now())
    _audit_form(form, by=by, change="field_added", field=field.name)
    return field


@transaction.atomic
def update_field(field: FormField, *, by: Actor, **data: Any) -> FormField:
    """Change a question: its label, what it fills, its type, required, help or choices."""
    require(by, Permission.MANAGE_WEB_FORMS)
    locked = FormField.objects.select_for_update().get(pk=field.pk)
    for name, value in data.items():
        setattr(locked, name, value)
    locked.name = field_name_for(locked.target)
    _check_field(locked)
    locked.save()
    _ensure_mapping(locked.form, by=by)
    _audit_form(locked.form, by=by, change="field_changed", field=locked.name)
    return locked


@transaction.atomic
def remove_field(field: FormField, *, by: Actor) -> None:
    """Take a question off the form; earlier submissions keep what was sent."""
    require(by, Permission.MANAGE_WEB_FORMS)
    FormField.objects.filter(pk=field.pk).delete()
    _audit_form(field.form, by=by, change="field_removed", field=field.name)


@transaction.atomic
def move_field(field: FormField, *, by: Actor, up: bool) -> None:
    """Swap a question with its neighbour above (up) or below; positions are renumbered."""
    require(by, Permission.MANAGE_WEB_FORMS)
    LeadForm.objects.select_for_update().get(pk=field.form_id)
    ordered = list(FormField.objects.filter(form_id=field.form_id).order_by("position", "pk"))
    index = next(i for i, f in enumerate(ordered) if f.pk == field.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(ordered):
        ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered):
        if item.position != position:
            FormField.objects.filter(pk=item.pk).update(position=position)
    _audit_form(field.form, by=by, change="field_moved", field=field.name)


def form_warnings(form: LeadForm) -> list[str]:
    """What would make every submission of this form fail, said before anyone submits."""
    warnings = []
    targets = {f.target for f in form.fields.all()}
    if not targets & {"email", "phone"}:
        warnings.append(_("Add an e-mail or phone field: a lead needs a way to reach the person."))
    if not form.is_active:
        warnings.append(_("This form is switched off; its page answers “not found”."))
    return warnings


# --- Rendering and submitting -------------------------------------------------------------------


@dataclass(frozen=True)
class RenderToken:
    """What the signed hidden field carries from the render to the submit."""

    form_id: int
    rendered_ms: int
    nonce: str
    referrer: str


def _now_ms(now: dt.datetime | None = None) -> int:
    return int((now or timezone.now()).timestamp() * 1000)


def issue_token(form: LeadForm, *, referrer: str = "", first: RenderToken | None = None) -> str:
    """A signed per-render token: the render time (kept from the first render when the form is
    shown again with errors), a fresh nonce (the idempotency key) and the page's referrer."""
    payload = {
        "f": form.pk,
        "t": first.rendered_ms if first else _now_ms(),
        "n": secrets.token_urlsafe(16),
        "r": (first.referrer if first else referrer)[:1000],
    }
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


def read_token(form: LeadForm, token: str, *, now: dt.datetime | None = None) -> RenderToken | None:
    """The token's content, or None when it is missing, forged, for another form or too old."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("f") != form.pk:
        return None
    age_ms = _now_ms(now) - int(data.get("t", 0))
    if age_ms > TOKEN_MAX_AGE.total_seconds() * 1000:
        return None
    return RenderToken(form.pk, int(data["t"]), str(data["n"]), str(data.get("r", "")))


def thanks_token(submission: RawSubmission) -> str:
    return signing.dumps(submission.pk, salt=THANKS_SALT)


def submission_for_thanks(form: LeadForm, token: str) -> RawSubmission | None:
    """The submission a thank-you link was made for (signed, one hour), of this form only."""
    try:
        pk = signing.loads(token, salt=THANKS_SALT, max_age=THANKS_MAX_AGE)
    except signing.BadSignature:
        return None
    return RawSubmission.objects.filter(
        pk=pk, source_id=form.source_id, meta__form_id=form.pk
    ).first()


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
        errors[CONSENT] = [_("Please agree so that we may contact you.")]
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
            "text": form.consent_text,
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
) -> SubmitResult:
    """Take one post of a web form through the one intake and say how it ended.

    Stored raw first, whatever it holds. A filled honeypot is rejected silently (the sender is
    thanked as usual); a form with errors is rejected with the reasons and shown again; a
    complete form sent within two seconds of the render is rejected silently; otherwise it is
    processed into a lead. The render token's
    nonce is the idempotency key, so a double click makes one lead.
    """
    now = timezone.now()
    if is_rate_limited(form, ip=client.ip, now=now):
        LeadForm.objects.filter(pk=form.pk).update(rate_limited_count=F("rate_limited_count") + 1)
        logger.info("web form rate limited form=%s ip=%s", form.pk, client.ip)
        return SubmitResult("rate_limited")
    token = read_token(form, str(posted.get(TOKEN, "")), now=now)
    meta = _meta(form, posted=posted, client=client, token=token, now=now)
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
        form_errors.append(_("This form has expired. Please check your details and send it again."))
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


def summary(form: LeadForm, submission: RawSubmission) -> list[tuple[str, str]]:
    """What the person sent, as (question, answer) for the thank-you page."""
    values = submission.fields or {}
    rows = []
    for item in form.fields.all():
        if item.is_hidden or item.name not in values:
            continue
        rows.append((item.label, str(values[item.name])))
    return rows
