"""The e-mail template form (sales managers and admins)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.sales.forms.lead import SalesForm


class TemplateForm(SalesForm):
    name = forms.CharField(label=_("Name"), max_length=100)
    language = forms.CharField(
        label=_("Language"),
        max_length=8,
        help_text=_("A language code, like en or nl: reps see the templates in their own first."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Text"), max_length=20000, widget=forms.Textarea(attrs={"rows": 12})
    )
    is_active = forms.BooleanField(
        label=_("Active"),
        required=False,
        initial=True,
        help_text=_("An inactive template is kept but no longer offered to reps."),
    )
