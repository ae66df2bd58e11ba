"""What the public page carries from the render to the post: the technical input names, the
signed per-render token and the signed thank-you link."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.core import signing
from django.utils import timezone

from leadloop.intake.models import RawSubmission
from leadloop.intake.web_forms.models import LeadForm

TOKEN_SALT = "leadloop.intake.web_form.render"  # noqa: S105 (a namespace, not a secret)
THANKS_SALT = "leadloop.intake.web_form.thanks"
TOKEN_MAX_AGE = dt.timedelta(hours=24)
THANKS_MAX_AGE = dt.timedelta(hours=1)

# Names of the technical inputs; they go to the submission's meta, never into the lead record.
TOKEN = "_ll_token"  # noqa: S105 (an input name)
HONEYPOT = "homepage"
CONSENT = "_ll_consent"
# The language the visitor saw the form in, sent back so the answer comes in the same one.
LANGUAGE = "_ll_lang"
# The embedding page's <html lang>, put on the iframe's address by the embed script.
PAGE_LANGUAGE = "_ll_hl"
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
RESERVED_NAMES = {
    TOKEN,
    HONEYPOT,
    CONSENT,
    LANGUAGE,
    PAGE_LANGUAGE,
    "lang",
    "embed",
    *CLIENT_FIELDS,
}


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
