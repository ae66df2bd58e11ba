"""The web form builder's forms: a form's settings and one field (marketing, admins)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from leadloop.errors import LeadloopError
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import FieldInput, FormField
from leadloop.leads.forms import UIForm
from leadloop.leads.models import ChannelKind, Source


class FormSettingsForm(UIForm):
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Source.objects.filter(  # type: ignore[attr-defined]
            kind=ChannelKind.WEB_FORM, is_active=True
        )


def _target_choices() -> list[tuple[str, Any]]:
    return [(t, web_forms.TARGET_LABELS[t]) for t in web_forms.FORM_TARGETS] + [
        ("extra", gettext_lazy("Extra field (name below)"))
    ]


class FieldForm(UIForm):
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

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = _target_choices()  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, field: FormField) -> dict[str, Any]:
        extra = field.target.startswith(web_forms.EXTRA_PREFIX)
        return {
            "label": field.label,
            "target": "extra" if extra else field.target,
            "extra_name": field.name if extra else "",
            "input_type": field.input_type,
            "is_required": field.is_required,
            "help_text": field.help_text,
            "choices": field.choices,
        }

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        extra_name = data.pop("extra_name").strip()
        if data["target"] == "extra":
            data["target"] = f"{web_forms.EXTRA_PREFIX}{extra_name}"
        return data

    def apply_service_error(self, exc: LeadloopError) -> None:
        if "target" in exc.errors and self.data.get(self.add_prefix("target")) == "extra":
            exc.errors["extra_name"] = exc.errors.pop("target")
        super().apply_service_error(exc)
