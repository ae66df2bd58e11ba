"""Forms of the privacy pages; the services check the rules again."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.leads.models import LeadStatus
from leadloop.privacy.models import RetentionTarget


class PersonForm(forms.Form):
    lead_id = forms.IntegerField(label=_("Lead number"), required=False, min_value=1)
    email = forms.CharField(label=_("E-mail"), required=False, max_length=254)
    phone = forms.CharField(label=_("Phone"), required=False, max_length=64)


class EraseForm(PersonForm):
    confirm = forms.CharField(
        label=_("Type the person's e-mail address or ERASE"),
        max_length=254,
        help_text=_("Erasure cannot be undone."),
    )


class ObjectionForm(forms.Form):
    CHOICES = [
        ("marketing", _("No marketing (unsubscribe)")),
        ("processing", _("Objects to all processing")),
        ("withdraw", _("Withdraw: marketing allowed again")),
    ]
    objection = forms.ChoiceField(label=_("Request"), choices=CHOICES)
    source = forms.CharField(
        label=_("Received through"),
        max_length=200,
        required=False,
        help_text=_("For example: e-mail of 3 March, phone call, unsubscribe link."),
    )


class RetentionRuleForm(forms.Form):
    target = forms.ChoiceField(label=_("Applies to"), choices=RetentionTarget.choices)
    state = forms.CharField(
        label=_("State or status"),
        max_length=20,
        help_text=_("Submissions: rejected, quarantined, processed. Leads: a status such as %s.")
        % ", ".join(LeadStatus.values),
    )
    keep_days = forms.IntegerField(label=_("Keep for (days)"), min_value=1, max_value=36_500)
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)
