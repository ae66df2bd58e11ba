"""The app's own texts a visitor reads on a public form, in the form of address the form asks for.

The app speaks Dutch with "je"; a form may ask for "u" (`LeadForm.is_formal`). Each built-in text
a visitor reads is therefore written twice: the plain message (Dutch "je") and the same English
under the context "formal address" (Dutch "u"). English reads the same either way. The form's own
texts (title, questions, thank-you message) are shown as their author wrote them.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadloop.intake.web_forms.models import LeadForm

# name → (the app's informal wording, the formal one); the context must stay a literal for
# the message extractor, so it is written out in each call.
WORDING: dict[str, tuple[Promise, Promise]] = {
    "consent_required": (
        _("Please agree so that we may contact you."),
        pgettext_lazy("formal address", "Please agree so that we may contact you."),
    ),
    "expired": (
        _("This form has expired. Please check your details and send it again."),
        pgettext_lazy(
            "formal address", "This form has expired. Please check your details and send it again."
        ),
    ),
    "rate_limited": (
        _(
            "This form was sent many times from your network in the last few minutes. Please try "
            "again in ten minutes."
        ),
        pgettext_lazy(
            "formal address",
            "This form was sent many times from your network in the last few minutes. Please try "
            "again in ten minutes.",
        ),
    ),
    "received": (
        _("We have received your details and will be in touch soon."),
        pgettext_lazy("formal address", "We have received your details and will be in touch soon."),
    ),
    "what_you_sent": (
        _("What you sent"),
        pgettext_lazy("formal address", "What you sent"),
    ),
    "sent_securely": (
        _("Your details are sent securely to the organisation behind this form."),
        pgettext_lazy(
            "formal address",
            "Your details are sent securely to the organisation behind this form.",
        ),
    ),
}


def visitor_text(form: LeadForm, name: str) -> str:
    """One built-in text in the active language, addressing the visitor as `form` asks."""
    informal, formal = WORDING[name]
    return str(formal if form.is_formal else informal)


def visitor_texts(form: LeadForm) -> dict[str, str]:
    """Every built-in text by name, for a public page's template (in the active language)."""
    return {name: visitor_text(form, name) for name in WORDING}
