"""The web form builder's forms: a form's settings and one field (marketing, admins)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy

from leadloop.errors import LeadloopError
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import (
    FieldInput,
    FormField,
    LeadForm,
    deployment_language,
    supported_languages,
)
from leadloop.leads.forms import UIForm
from leadloop.leads.models import ChannelKind, Source


class TranslatedTextsMixin(forms.Form):
    """Inputs "<language>_<text>" for a form's texts in its other languages, grouped per language.

    Each input shows the default-language text as its placeholder: what a visitor reads in that
    language while it is empty.
    """

    TEXTS: dict[str, int] = {}

    def add_translation_fields(
        self, *, default_language: str, shown: Callable[[str], dict[str, str]]
    ) -> None:
        """`shown(language)`: the texts a visitor in that language reads while none is typed."""
        self.translation_languages = [c for c in supported_languages() if c != default_language]
        for language in self.translation_languages:
            defaults = shown(language)
            for name, limit in self.TEXTS.items():
                widget: forms.Widget = (
                    forms.Textarea(attrs={"rows": 2}) if limit > 300 else forms.TextInput()
                )
                widget.attrs.update({"placeholder": defaults.get(name, ""), "lang": language})
                self.fields[f"{language}_{name}"] = forms.CharField(
                    label=f"{web_forms.TEXT_NAMES[name]} ({web_forms.language_name(language)})",
                    required=False,
                    max_length=limit,
                    widget=widget,
                )

    @property
    def main_fields(self) -> list[forms.BoundField]:
        translated = {
            f"{language}_{name}"
            for language in getattr(self, "translation_languages", [])
            for name in self.TEXTS
        }
        return [self[name] for name in self.fields if name not in translated]

    @property
    def translation_groups(self) -> list[dict[str, Any]]:
        return [
            {
                "code": language,
                "name": web_forms.language_name(language),
                "fields": [self[f"{language}_{name}"] for name in self.TEXTS],
            }
            for language in getattr(self, "translation_languages", [])
        ]

    def translations(self) -> dict[str, dict[str, str]]:
        data = self.cleaned_data
        return {
            language: {
                name: data.get(f"{language}_{name}", "").strip()
                for name in self.TEXTS
                if data.get(f"{language}_{name}", "").strip()
            }
            for language in getattr(self, "translation_languages", [])
        }

    @classmethod
    def translation_initial(cls, translations: dict[str, dict[str, str]]) -> dict[str, str]:
        return {
            f"{language}_{name}": text
            for language, texts in (translations or {}).items()
            for name, text in texts.items()
            if name in cls.TEXTS
        }


class FormSettingsForm(TranslatedTextsMixin, UIForm):
    TEXTS = web_forms.FORM_TEXTS

    title = forms.CharField(label=gettext_lazy("Title"), max_length=200)
    slug = forms.SlugField(
        label=gettext_lazy("Address"),
        max_length=80,
        help_text=gettext_lazy("The form's page is /f/<address>/. Letters, digits and dashes."),
    )
    source = forms.ModelChoiceField(
        label=gettext_lazy("Source"),
        queryset=Source.objects.none(),
        help_text=gettext_lazy("Leads from this form count for this source (kind: web form)."),
    )
    intro = forms.CharField(
        label=gettext_lazy("Introduction"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    submit_label = forms.CharField(
        label=gettext_lazy("Button text"),
        max_length=80,
        required=False,
        help_text=gettext_lazy("Empty: “Send”."),
    )
    thank_you_message = forms.CharField(
        label=gettext_lazy("Thank-you message"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    redirect_url = forms.CharField(
        label=gettext_lazy("Or redirect to"),
        max_length=1000,
        required=False,
        help_text=gettext_lazy("An http:// or https:// address shown after sending, instead."),
    )
    consent_text = forms.CharField(
        label=gettext_lazy("Consent text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown beside a tick box. Empty: no consent question."),
    )
    consent_version = forms.CharField(
        label=gettext_lazy("Consent version"),
        max_length=40,
        required=False,
        help_text=gettext_lazy("Change it whenever the text changes, e.g. 2026-03."),
    )
    consent_purpose = forms.CharField(
        label=gettext_lazy("Consent given for"), max_length=200, required=False
    )
    is_consent_required = forms.BooleanField(
        label=gettext_lazy("Consent is required to send"), required=False
    )
    is_active = forms.BooleanField(
        label=gettext_lazy("Active (the page is online)"), required=False
    )
    is_formal = forms.BooleanField(
        label=gettext_lazy("Address visitors formally"),
        required=False,
        help_text=gettext_lazy(
            "The form's own notices (errors, thank-you page) say “u” instead of “je” in Dutch. "
            "Your texts above are shown as you write them."
        ),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Default language"),
        choices=settings.LANGUAGES,
        required=False,
        help_text=gettext_lazy(
            "The texts above are in this language. Visitors whose language the form does not "
            "speak see it in this one."
        ),
    )
    languages = forms.MultipleChoiceField(
        label=gettext_lazy("Languages"),
        choices=settings.LANGUAGES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy(
            "A visitor sees the form in their browser's language (or the page's) when it is "
            "ticked here."
        ),
    )

    def __init__(self, *args: Any, lead_form: LeadForm | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Source.objects.filter(  # type: ignore[attr-defined]
            kind=ChannelKind.WEB_FORM, is_active=True
        )
        if lead_form is not None:
            self.add_translation_fields(
                default_language=lead_form.language,
                shown=lambda _language: {
                    name: str(getattr(lead_form, name)) for name in self.TEXTS
                },
            )

    @classmethod
    def initial_for(cls, lead_form: LeadForm) -> dict[str, Any]:
        initial = {name: getattr(lead_form, name) for name in cls.base_fields}
        initial["languages"] = lead_form.enabled_languages
        return {**initial, **cls.translation_initial(lead_form.translations)}

    @classmethod
    def initial_new(cls) -> dict[str, Any]:
        language = deployment_language()
        return {
            "is_active": True,
            "is_consent_required": True,
            "consent_version": "1",
            "language": language,
            "languages": [language],
        }

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.base_fields}
        if not data["language"]:
            # Not asked (an older page): the form keeps its language, a new one the deployment's.
            del data["language"]
        if getattr(self, "translation_languages", None) is not None:
            data["translations"] = self.translations()
        return data


def _target_choices() -> list[tuple[str, Any]]:
    return [(t, web_forms.TARGET_LABELS[t]) for t in web_forms.FORM_TARGETS] + [
        ("extra", gettext_lazy("Extra field (name below)"))
    ]


class FieldForm(TranslatedTextsMixin, UIForm):
    TEXTS = web_forms.FIELD_TEXTS

    label = forms.CharField(label=gettext_lazy("Question"), max_length=200)
    target = forms.ChoiceField(label=gettext_lazy("Fills"), choices=())
    extra_name = forms.CharField(
        label=gettext_lazy("Extra field name"),
        max_length=60,
        required=False,
        help_text=gettext_lazy("Only for an extra field, e.g. budget."),
    )
    input_type = forms.ChoiceField(label=gettext_lazy("Type"), choices=FieldInput.choices)
    is_required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    help_text = forms.CharField(label=gettext_lazy("Help text"), max_length=300, required=False)
    choices = forms.CharField(
        label=gettext_lazy("Choices or value"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Choice list: one per line. Hidden value: the value itself."),
    )

    def __init__(
        self,
        *args: Any,
        lead_form: LeadForm | None = None,
        field: FormField | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = _target_choices()  # type: ignore[attr-defined]
        if lead_form is not None and field is not None:
            self.add_translation_fields(
                default_language=lead_form.language,
                shown=lambda language: {
                    name: web_forms.field_text(field, name, form=lead_form, language=language)
                    for name in self.TEXTS
                },
            )

    @classmethod
    def initial_for(cls, field: FormField) -> dict[str, Any]:
        extra = field.target.startswith(web_forms.EXTRA_PREFIX)
        return {
            **cls.translation_initial(field.translations),
            "label": field.label,
            "target": "extra" if extra else field.target,
            "extra_name": field.name if extra else "",
            "input_type": field.input_type,
            "is_required": field.is_required,
            "help_text": field.help_text,
            "choices": field.choices,
        }

    def service_data(self) -> dict[str, Any]:
        data = {name: self.cleaned_data[name] for name in self.base_fields}
        if getattr(self, "translation_languages", None) is not None:
            data["translations"] = self.translations()
        extra_name = data.pop("extra_name").strip()
        if data["target"] == "extra":
            data["target"] = f"{web_forms.EXTRA_PREFIX}{extra_name}"
        return data

    def apply_service_error(self, exc: LeadloopError) -> None:
        if "target" in exc.errors and self.data.get(self.add_prefix("target")) == "extra":
            exc.errors["extra_name"] = exc.errors.pop("target")
        super().apply_service_error(exc)
