"""Web forms: build them (marketing), and take in what a visitor sends through the one intake.

    form = create_form(source=…, title=…, slug=…, by=user)        # builder.py
    token = issue_token(form, referrer=…)                         # tokens.py: per render, signed
    result = submit(form, body=…, posted=…, client=…, …)          # submit.py: raw → check → process

Every post is stored raw first (`intake.services.receive`), also an invalid one or a bot's; only
a post over the per-IP rate limit is not stored (a flood must not fill the database), and it
leaves a count on the form.
"""

from leadloop.intake.web_forms.services.builder import (
    CONSENT_TARGETS,
    EXTRA_PREFIX,
    FORM_TARGETS,
    STARTER_FIELDS,
    TARGET_LABELS,
    add_field,
    create_form,
    field_name_for,
    form_warnings,
    move_field,
    remove_field,
    target_errors,
    update_field,
    update_form,
)
from leadloop.intake.web_forms.services.submit import (
    MAX_VALUE_LENGTH,
    MAX_VARIANTS_PER_TOKEN,
    MIN_SECONDS_TO_SUBMIT,
    RATE_LIMIT,
    RATE_WINDOW,
    UTM,
    ClientInfo,
    SubmitResult,
    is_rate_limited,
    submit,
    summary,
)
from leadloop.intake.web_forms.services.tokens import (
    CLIENT_FIELDS,
    CONSENT,
    HONEYPOT,
    RESERVED_NAMES,
    THANKS_MAX_AGE,
    THANKS_SALT,
    TOKEN,
    TOKEN_MAX_AGE,
    TOKEN_SALT,
    RenderToken,
    issue_token,
    read_token,
    submission_for_thanks,
    thanks_token,
)

__all__ = [
    "CLIENT_FIELDS",
    "CONSENT",
    "CONSENT_TARGETS",
    "EXTRA_PREFIX",
    "FORM_TARGETS",
    "HONEYPOT",
    "MAX_VALUE_LENGTH",
    "MAX_VARIANTS_PER_TOKEN",
    "MIN_SECONDS_TO_SUBMIT",
    "RATE_LIMIT",
    "RATE_WINDOW",
    "RESERVED_NAMES",
    "STARTER_FIELDS",
    "TARGET_LABELS",
    "THANKS_MAX_AGE",
    "THANKS_SALT",
    "TOKEN",
    "TOKEN_MAX_AGE",
    "TOKEN_SALT",
    "UTM",
    "ClientInfo",
    "RenderToken",
    "SubmitResult",
    "add_field",
    "create_form",
    "field_name_for",
    "form_warnings",
    "is_rate_limited",
    "issue_token",
    "move_field",
    "read_token",
    "remove_field",
    "submission_for_thanks",
    "submit",
    "summary",
    "target_errors",
    "thanks_token",
    "update_field",
    "update_form",
]
