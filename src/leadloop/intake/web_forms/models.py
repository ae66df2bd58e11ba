"""Web forms: a form marketing builds in the UI, hosted at /f/<slug>/ and embeddable anywhere.

What a person sends through a form enters the one intake like any other payload (channel
"web_form"); these tables only describe the form itself.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import URLValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "FieldInput",
    "FormField",
    "LeadForm",
    "deployment_language",
    "supported_languages",
    "validate_redirect_url",
]

# Only web addresses: a javascript: or data: URL as the thank-you target would run the
# sender's code on our page after every submission.
validate_redirect_url = URLValidator(schemes=["http", "https"])


def supported_languages() -> list[str]:
    """The languages a form can speak: the project's own (settings.LANGUAGES)."""
    return [code for code, _name in settings.LANGUAGES]


def deployment_language() -> str:
    """A new form's default language: the deployment's language when the app speaks it."""
    code = str(settings.LANGUAGE_CODE).lower()
    languages = supported_languages()
    if code in languages:
        return code
    base = code.split("-")[0]
    return base if base in languages else languages[0]


class FieldInput(models.TextChoices):
    TEXT = "text", _("Text")
    EMAIL = "email", _("E-mail")
    TEL = "tel", _("Phone")
    TEXTAREA = "textarea", _("Long text")
    SELECT = "select", _("Choice list")
    CHECKBOX = "checkbox", _("Tick box")
    HIDDEN = "hidden", _("Hidden value")


class LeadForm(models.Model):
    """A web form: the fields a visitor fills in, its consent text, and what happens after.

    It belongs to one source of kind web_form; every submission becomes a RawSubmission of
    that source, channel "web_form".
    """

    source = models.ForeignKey(
        "leads.Source", on_delete=models.PROTECT, related_name="web_forms", verbose_name=_("source")
    )
    slug = models.SlugField(_("address"), max_length=80, unique=True)
    title = models.CharField(_("title"), max_length=200)
    intro = models.TextField(_("introduction"), blank=True, default="")
    submit_label = models.CharField(_("button text"), max_length=80, blank=True, default="")
    thank_you_message = models.TextField(_("thank-you message"), blank=True, default="")
    redirect_url = models.URLField(
        _("redirect to"),
        max_length=1000,
        blank=True,
        default="",
        validators=[validate_redirect_url],
    )
    consent_text = models.TextField(_("consent text"), blank=True, default="")
    consent_version = models.CharField(_("consent version"), max_length=40, blank=True, default="")
    consent_purpose = models.CharField(
        _("consent given for"), max_length=200, blank=True, default=""
    )
    is_consent_required = models.BooleanField(_("consent required"), default=True)
    # How the app's own texts on the public pages address the visitor in Dutch: "je" like the
    # app itself, or "u" when the form asks for it. English reads the same either way.
    is_formal = models.BooleanField(_("formal address"), default=False)
    # The text columns above hold the texts in this language; `translations` holds the others
    # as {language: {column: text}}, and a missing one falls back to the default language.
    language = models.CharField(_("default language"), max_length=8, default=deployment_language)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    translations = models.JSONField(_("translations"), default=dict, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Posts refused by the per-IP rate limit leave nothing but this count (see docs).
    rate_limited_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("web form")
        constraints = [
            models.CheckConstraint(
                condition=Q(redirect_url="")
                | Q(redirect_url__startswith="http://")
                | Q(redirect_url__startswith="https://"),
                name="leadform_redirect_is_web_address",
            ),
            models.CheckConstraint(
                condition=Q(consent_text="") | ~Q(consent_version=""),
                name="leadform_consent_has_version",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def has_consent(self) -> bool:
        return bool(self.consent_text.strip())

    @property
    def enabled_languages(self) -> list[str]:
        """The default language first, then the others the form speaks."""
        others = [code for code in self.languages or [] if code != self.language]
        return [self.language, *others]


class FormField(models.Model):
    """One question of a web form and the lead field (or extra field) its answer fills."""

    form = models.ForeignKey(LeadForm, on_delete=models.CASCADE, related_name="fields")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    # The input's name in the posted body: the target lead field, or the extra field's name.
    name = models.CharField(max_length=80)
    label = models.CharField(_("label"), max_length=200)
    target = models.CharField(_("fills"), max_length=100)
    input_type = models.CharField(
        _("type"), max_length=10, choices=FieldInput.choices, default=FieldInput.TEXT
    )
    is_required = models.BooleanField(_("required"), default=False)
    help_text = models.CharField(_("help text"), max_length=300, blank=True, default="")
    # Select: one choice per line. Hidden: the fixed value.
    choices = models.TextField(_("choices"), blank=True, default="")
    # Label and help text in the form's other languages: {language: {"label": …, "help_text": …}}.
    translations = models.JSONField(_("translations"), default=dict, blank=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("form field")
        constraints = [
            models.UniqueConstraint(fields=["form", "name"], name="formfield_name_unique_per_form")
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def choice_list(self) -> list[str]:
        return [line.strip() for line in self.choices.splitlines() if line.strip()]

    @property
    def is_hidden(self) -> bool:
        return self.input_type == FieldInput.HIDDEN
