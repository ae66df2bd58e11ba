"""Web form posts (/f/<slug>/): the form-encoded body → one record of the form's own fields.

Each question becomes its input name (the lead field it fills, or the extra field's name), which
the source's mapping reads directly (web_forms keeps the entries it needs there). The technical
inputs (render token, fingerprint, honeypot, …) are left out: they live in the submission's meta.
A given consent adds what the person agreed to, when, and which text version they saw; the
language the form was shown in fills the lead's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from leadloop.intake.channels import ParseError, Record, register
from leadloop.intake.channels.http.parser import media_type, parse_form, parse_multipart

if TYPE_CHECKING:
    from leadloop.intake.models import RawSubmission

WEB_FORM_CHANNEL = "web_form"


def _form_fields(submission: RawSubmission) -> list[list[Any]]:
    fields = submission.meta.get("form_fields")
    if fields is not None:
        return list(fields)
    # Older posts without a snapshot: read the form as it is now.
    from leadloop.intake.web_forms.models import FormField

    rows = FormField.objects.filter(form_id=submission.meta.get("form_id")).order_by("position")
    return [[f.name, f.target, f.input_type, f.choices] for f in rows]


@register(WEB_FORM_CHANNEL)
def parse_web_form(submission: RawSubmission) -> list[Record]:
    """The form's questions and their answers, read from the posted body as it was stored."""
    body = bytes(submission.body)
    kind, params = media_type(submission.content_type)
    if kind == "multipart/form-data":
        posted = parse_multipart(body, submission.content_type)
    elif kind in ("application/x-www-form-urlencoded", ""):
        posted = parse_form(body, params.get("charset"))
    else:
        raise ParseError(f"A web form posts name-value pairs, not {kind!r}.")
    record: Record = {}
    for name, _target, input_type, fixed in _form_fields(submission):
        if input_type == "hidden":
            # The value set in the form builder; a posted one could have been edited.
            record[name] = str(fixed or "").strip()
        elif input_type == "checkbox":
            record[name] = "yes" if posted.get(name) else "no"
        else:
            record[name] = posted.get(name, "")
    language = str(submission.meta.get("language") or "")
    if language and "language" not in record:
        # The language the form was shown in, unless a question asked the person for theirs.
        record["language"] = language
    consent = submission.meta.get("consent") or {}
    if consent.get("given"):
        record["consent_purpose"] = str(consent.get("purpose") or "")
        record["consent_at"] = str(consent.get("at") or "")
        record["consent_text_version"] = str(consent.get("version") or "")
    return [record]
