"""Forms of the marketing e-mail pages (marketing and admins)."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.forms import ServiceForm
from leadloop.nurture.mail.models import SuppressionReason


class TemplateForm(ServiceForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    language = forms.CharField(
        label=_("Language"),
        max_length=8,
        help_text=_(
            "A language code, like en or nl. Add one template per language under one name."
        ),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Text"),
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=_("Markdown: **bold**, *italic*, [link text](https://…), lists, headings."),
    )
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    survey_id = forms.TypedChoiceField(
        label=_("Survey"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("The survey {survey_url} links to: each lead gets its own link to it."),
    )

    def __init__(self, *args: Any, surveys: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = cast(forms.TypedChoiceField, self.fields["survey_id"])
        field.choices = [("", _("No survey")), *surveys]


class PreviewForm(forms.Form):
    """What the live preview renders: the form's current text, and the lead to fill it with."""

    subject = forms.CharField(max_length=200, required=False)
    body = forms.CharField(max_length=100_000, required=False)
    language = forms.CharField(max_length=8, required=False)
    survey_id = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, choices=())
    lead = forms.IntegerField(label=_("Preview for lead #"), required=False, min_value=1)


class SuppressionForm(ServiceForm):
    email = forms.CharField(label=_("E-mail address"), max_length=254)
    reason = forms.ChoiceField(
        label=_("Reason"), choices=SuppressionReason.choices, initial=SuppressionReason.MANUAL
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class SendForm(ServiceForm):
    template = forms.TypedChoiceField(label=_("Template"), coerce=int)
