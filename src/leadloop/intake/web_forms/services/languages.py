"""The languages of a web form: which one a visitor sees, and the form's texts in it.

A form's text columns hold its default language; `translations` holds the other languages it
speaks. A text missing in a language falls back to the default language, so a half-translated
form still shows every question.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.utils.translation.trans_real import parse_accept_lang_header

from leadloop.intake.web_forms.models import FormField, LeadForm, supported_languages
from leadloop.intake.web_forms.services.targets import TARGET_LABELS

# The texts a visitor reads, per form and per question, with their lengths in the columns.
FORM_TEXTS = {
    "title": 200,
    "intro": 5000,
    "submit_label": 80,
    "thank_you_message": 5000,
    "consent_text": 5000,
}
FIELD_TEXTS = {"label": 200, "help_text": 300}
TEXT_NAMES = {
    "title": gettext_lazy("Title"),
    "intro": gettext_lazy("Introduction"),
    "submit_label": gettext_lazy("Button text"),
    "thank_you_message": gettext_lazy("Thank-you message"),
    "consent_text": gettext_lazy("Consent text"),
    "label": gettext_lazy("Question"),
    "help_text": gettext_lazy("Help text"),
}
# Accept-Language headers are short; a longer one is not a browser's.
MAX_ACCEPT_LANGUAGE = 500


def language_name(code: str) -> str:
    """The language's name in the reader's language ("Dutch", "Nederlands")."""
    return str(dict(settings.LANGUAGES).get(code, code))


def _spoken(form: LeadForm, code: str) -> str | None:
    """The form's language for a code such as "nl-NL" or "NL", or None when it does not speak it."""
    code = (code or "").strip().lower()[:20]
    if not code or code == "*":
        return None
    try:
        variant = translation.get_supported_language_variant(code)
    except LookupError:
        return None
    return variant if variant in form.enabled_languages else None


def choose_language(form: LeadForm, *, asked: str = "", page: str = "", accept: str = "") -> str:
    """The language a visitor sees this form in.

    First a language asked for by name (?lang= on the link, or the one the visitor already saw
    on the form they now post), then the embedding page's <html lang>, then the browser's
    Accept-Language in order of preference; the form's default language when none is spoken.
    """
    for code in (asked, page):
        spoken = _spoken(form, code)
        if spoken:
            return spoken
    for code, _quality in parse_accept_lang_header((accept or "")[:MAX_ACCEPT_LANGUAGE].lower()):
        spoken = _spoken(form, code)
        if spoken:
            return spoken
    return form.language


@dataclass(frozen=True)
class FormTexts:
    """A form's own texts in one language (each falls back to the default language)."""

    language: str
    title: str
    intro: str
    submit_label: str
    thank_you_message: str
    consent_text: str


def _translated(row: LeadForm | FormField, language: str, name: str) -> str:
    texts = (row.translations or {}).get(language) or {}
    return str(texts.get(name) or "").strip()


def form_texts(form: LeadForm, language: str) -> FormTexts:
    """The form's texts as a visitor in `language` reads them."""
    values = {
        name: (language != form.language and _translated(form, language, name))
        or getattr(form, name)
        for name in FORM_TEXTS
    }
    return FormTexts(language=language, **values)


def stock_label(field: FormField, *, written_in: str, language: str) -> str | None:
    """The app's own label of the field's lead field in `language`, when the author kept the
    label the builder gave it (in `written_in`); None when the author wrote their own."""
    stock = TARGET_LABELS.get(field.target)
    if stock is None:
        return None
    with translation.override(written_in):
        if field.label != str(stock):
            return None
    with translation.override(language):
        return str(stock)


def field_text(field: FormField, name: str, *, form: LeadForm, language: str) -> str:
    """A question's label or help text in `language`.

    A label the builder filled in itself ("First name") reads as the app's own translation
    ("Voornaam") until the author writes one.
    """
    default = str(getattr(field, name))
    if language == form.language:
        return default
    own = _translated(field, language, name)
    if own:
        return own
    if name == "label":
        stock = stock_label(field, written_in=form.language, language=language)
        if stock:
            return stock
    return default


def missing_texts(form: LeadForm, fields: list[FormField]) -> dict[str, list[str]]:
    """Per other language the form speaks (by name), the texts that still show the default
    language: what the builder lists as to be translated."""
    missing: dict[str, list[str]] = {}
    for language in form.enabled_languages[1:]:
        names = [
            str(TEXT_NAMES[name])
            for name in FORM_TEXTS
            if str(getattr(form, name)).strip() and not _translated(form, language, name)
        ]
        names += [
            field.label for field in fields if field_missing(field, form=form, language=language)
        ]
        if names:
            missing[language_name(language)] = names
    return missing


def field_missing(field: FormField, *, form: LeadForm, language: str) -> bool:
    """Whether a visible question still shows a default-language text in `language`."""
    if field.is_hidden:
        return False
    if not _translated(field, language, "label") and not stock_label(
        field, written_in=form.language, language=language
    ):
        return True
    return bool(field.help_text.strip()) and not _translated(field, language, "help_text")


def missing_languages(field: FormField, *, form: LeadForm) -> list[str]:
    """The names of the form's other languages a question is not translated into yet."""
    return [
        language_name(language)
        for language in form.enabled_languages[1:]
        if field_missing(field, form=form, language=language)
    ]


def clean_languages(language: str, languages: list[str]) -> list[str]:
    """The languages a form speaks: the supported ones asked for, always with the default one,
    in the project's order."""
    wanted = {*languages, language}
    return [code for code in supported_languages() if code in wanted]


def clean_translations(
    translations: Any, *, lengths: dict[str, int], errors: dict[str, list[str]]
) -> dict[str, dict[str, str]]:
    """Translations as stored: supported languages and known texts only, trimmed, no blanks.

    A text over its length adds an error under "<language>_<name>" (the builder's input).
    """
    cleaned: dict[str, dict[str, str]] = {}
    if not isinstance(translations, dict):
        return cleaned
    for language, texts in translations.items():
        if language not in supported_languages() or not isinstance(texts, dict):
            continue
        kept = {}
        for name, limit in lengths.items():
            value = str(texts.get(name) or "").strip()
            if len(value) > limit:
                errors.setdefault(f"{language}_{name}", []).append(
                    _("Keep this under %(n)d characters.") % {"n": limit}
                )
            elif value:
                kept[name] = value
        if kept:
            cleaned[language] = kept
    return cleaned


def swap_default(row: LeadForm | FormField, *, old: str, new: str, names: dict[str, int]) -> None:
    """Make `new` the language of the row's text columns: the columns' texts move to `old`'s
    translations, and `new`'s translations (where there are) take their place."""
    translations = {k: dict(v) for k, v in (row.translations or {}).items()}
    incoming = translations.pop(new, {})
    translations[old] = {name: getattr(row, name) for name in names if getattr(row, name)}
    for name in names:
        if incoming.get(name):
            setattr(row, name, incoming[name])
    row.translations = {k: v for k, v in translations.items() if v}
