"""The forms of the follow-up panel on the lead page: next steps, contact, quotes, won and lost.

They parse what a person typed and show the services' errors next to the fields; the rules
(amounts, currencies, due times, reasons) are the services'. Each form has its own prefix, since
the panel holds several at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadloop.accounts.actors import Actor
from leadloop.accounts.forms import ServiceForm
from leadloop.accounts.selectors import list_assignable_users
from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.leads.models import LostReason
from leadloop.leads.selectors import list_lost_reasons
from leadloop.sales.models import EmailTemplate, Quote, TaskKind
from leadloop.sales.services.contact import CallOutcome

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOTE = forms.Textarea(attrs={"rows": 3})


class SalesForm(ServiceForm):
    """A panel form: a service's field errors go next to the field, and what the service said
    about the whole action (its `detail`) on top, so "That amount is too large to be a real
    order." is read before "At most 1,000,000,000."."""

    # Service field names shown under another name here.
    ALIASES: dict[str, str] = {}

    def apply_service_error(self, exc: LeadloopError) -> None:
        if isinstance(exc, ValidationFailed) and exc.errors:
            self.add_error(None, exc.detail)
            errors = {self.ALIASES.get(name, name): msgs for name, msgs in exc.errors.items()}
            exc = ValidationFailed(exc.detail, errors=errors)
        super().apply_service_error(exc)


# --- Next steps --------------------------------------------------------------------------------


class TaskForm(SalesForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=TaskKind.choices, initial=TaskKind.CALL)
    title = forms.CharField(label=_("What"), max_length=200, required=False)
    due_at = forms.DateTimeField(label=_("Due"), widget=DATETIME)
    owner = forms.TypedChoiceField(
        label=_("Who does it"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, data: QueryDict | None = None, *, actor: Actor, **kwargs: Any) -> None:
        super().__init__(data, prefix="task", **kwargs)
        # A rep plans their own steps; a manager may give a step to a rep of their teams.
        self.owners = {u.pk: u for u in list_assignable_users(actor)}
        if len(self.owners) > 1:
            owner_field = cast(forms.TypedChoiceField, self.fields["owner"])
            owner_field.choices = [("", _("The lead's owner")), *self._owner_choices()]
        else:
            del self.fields["owner"]

    def _owner_choices(self) -> list[tuple[int, str]]:
        return [(pk, user.display_name) for pk, user in self.owners.items()]

    def values(self) -> dict[str, Any]:
        chosen = self.cleaned_data.get("owner")
        return {
            "kind": self.cleaned_data["kind"],
            "title": self.cleaned_data["title"],
            "due_at": self.cleaned_data["due_at"],
            "owner": self.owners.get(chosen) if chosen else None,
        }


SNOOZES = {
    "1h": (_("1 hour"), dt.timedelta(hours=1)),
    "3h": (_("3 hours"), dt.timedelta(hours=3)),
    "1d": (_("1 day"), dt.timedelta(days=1)),
    "1w": (_("1 week"), dt.timedelta(weeks=1)),
}


class SnoozeForm(SalesForm):
    """Push a step back a little, with a reason."""

    ALIASES = {"due_at": "until"}

    until = forms.ChoiceField(
        label=_("Snooze for"), choices=[(k, label) for k, (label, _d) in SNOOZES.items()]
    )
    reason = forms.CharField(label=_("Why"), max_length=300)

    def due_at(self, task_due: dt.datetime) -> dt.datetime:
        """From now, or from the due time if that is still ahead."""
        start = max(timezone.now(), task_due)
        return start + SNOOZES[self.cleaned_data["until"]][1]


class RescheduleForm(SalesForm):
    due_at = forms.DateTimeField(label=_("New due time"), widget=DATETIME)
    reason = forms.CharField(label=_("Why"), max_length=300)


class CancelTaskForm(SalesForm):
    reason = forms.CharField(label=_("Why (optional)"), max_length=300, required=False)


# --- Contact -----------------------------------------------------------------------------------


class CallForm(SalesForm):
    ALIASES = {"duration_seconds": "duration_minutes"}

    outcome = forms.ChoiceField(label=_("How did it go?"), choices=CallOutcome.choices)
    duration_minutes = forms.IntegerField(
        label=_("Minutes"), required=False, min_value=0, max_value=480
    )
    callback_at = forms.DateTimeField(
        label=_("Call back at"),
        required=False,
        widget=DATETIME,
        help_text=_("For “Call back at”: the call is planned as a next step."),
    )
    note = forms.CharField(label=_("Notes"), required=False, max_length=5000, widget=NOTE)

    def __init__(self, data: QueryDict | None = None, *, partner: bool = False) -> None:
        super().__init__(data, prefix="call")
        if partner:
            # A partner's next steps live in its own systems, not in Leadloop's tasks.
            outcome = cast(forms.ChoiceField, self.fields["outcome"])
            outcome.choices = [c for c in CallOutcome.choices if c[0] != CallOutcome.CALLBACK]
            del self.fields["callback_at"]

    def values(self) -> dict[str, Any]:
        minutes = self.cleaned_data.get("duration_minutes")
        return {
            "outcome": self.cleaned_data["outcome"],
            "duration_seconds": minutes * 60 if minutes is not None else None,
            "note": self.cleaned_data["note"],
            "callback_at": self.cleaned_data.get("callback_at"),
        }


class MeetingForm(SalesForm):
    note = forms.CharField(label=_("What was discussed"), max_length=5000, widget=NOTE)

    def __init__(self, data: QueryDict | None = None) -> None:
        super().__init__(data, prefix="meeting")


class EmailForm(SalesForm):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    body = forms.CharField(
        label=_("Message"), max_length=20000, widget=forms.Textarea(attrs={"rows": 8})
    )

    def __init__(self, data: QueryDict | None = None, **kwargs: Any) -> None:
        super().__init__(data, prefix="email", **kwargs)


def template_choices(templates: list[EmailTemplate]) -> list[tuple[int, str]]:
    return [(t.pk, f"{t.name} ({t.language})") for t in templates]


# --- Quotes and outcomes -----------------------------------------------------------------------


class QuoteForm(SalesForm):
    title = forms.CharField(label=_("Title"), max_length=200, required=False)
    # Text, not a number field: the service says what is wrong with "-5" or "1e12".
    amount = forms.CharField(
        label=_("Amount"), max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"})
    )
    currency = forms.CharField(
        label=_("Currency"),
        max_length=3,
        required=False,
        widget=forms.TextInput(attrs={"size": 4, "autocapitalize": "characters"}),
    )
    probability = forms.IntegerField(
        label=_("Probability (%)"),
        required=False,
        help_text=_("Empty: the usual chance at this stage."),
    )
    expected_close_on = forms.DateField(label=_("Expected close"), required=False, widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=NOTE)
    send = forms.BooleanField(label=_("Sent to the customer now"), required=False)

    def __init__(
        self, data: QueryDict | None = None, *, quote: Quote | None = None, currency: str = ""
    ) -> None:
        if quote is None:
            super().__init__(data, prefix="quote", initial={"currency": currency})
            return
        initial = {
            "title": quote.title,
            "amount": str(quote.amount),
            "currency": quote.currency,
            "probability": quote.probability,
            "expected_close_on": quote.expected_close_on,
            "note": quote.note,
        }
        super().__init__(data, prefix=f"quote-{quote.pk}", initial=initial)
        del self.fields["send"]

    def values(self) -> dict[str, Any]:
        values = dict(self.cleaned_data)
        values.pop("send", None)
        return values


class WonForm(SalesForm):
    order_value = forms.CharField(
        label=_("Order value"),
        max_length=40,
        required=False,
        help_text=_("Empty: the current quote's amount."),
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    won_on = forms.DateField(label=pgettext_lazy("deal", "Won on"), required=False, widget=DATE)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=NOTE)

    def __init__(self, data: QueryDict | None = None) -> None:
        super().__init__(data, prefix="won", initial={"won_on": timezone.localdate()})


class LostForm(SalesForm):
    lost_reason = forms.ModelChoiceField(label=_("Reason"), queryset=LostReason.objects.none())
    competitor = forms.CharField(label=_("Lost to (competitor)"), max_length=200, required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=5000, widget=NOTE)

    def __init__(self, data: QueryDict | None = None, *, actor: Actor) -> None:
        super().__init__(data, prefix="lost")
        reason = cast(forms.ModelChoiceField, self.fields["lost_reason"])  # type: ignore[type-arg]
        reason.queryset = list_lost_reasons(actor)
