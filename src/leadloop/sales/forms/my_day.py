"""The one-tap forms on a row of My day: log a call, snooze a task, set the next step, move the
lead on. Each carries the row's prefix, so a page of rows has unique field ids."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.leads.models import LeadStatus, LostReason
from leadloop.sales.models import TaskKind
from leadloop.sales.services.contact import CallOutcome

# `datetime-local` sends "2026-11-03T14:30"; Django reads it in the active (the user's) zone.
LOCAL_FORMAT = "%Y-%m-%dT%H:%M"
SNOOZE_HOUR = dt.timedelta(hours=1)
MORNING = dt.time(9, 0)
# Where a rep moves a lead from My day; assigning and routing are done elsewhere.
DAY_MOVES = (
    LeadStatus.CONTACTED,
    LeadStatus.QUOTED,
    LeadStatus.WON,
    LeadStatus.LOST,
    LeadStatus.NURTURING,
    LeadStatus.DISQUALIFIED,
)


class LocalDateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format=LOCAL_FORMAT)


def _when_field(label: Any, *, required: bool) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=[LOCAL_FORMAT, "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S"],
        widget=LocalDateTimeInput(),
    )


class DayForm(forms.Form):
    """A row's form: invalid fields say so to screen readers; service errors land on them."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"{self[name].auto_id}_errors"

    def apply_service_error(self, exc: LeadloopError) -> None:
        if not isinstance(exc, ValidationFailed) or not exc.errors:
            self.add_error(None, exc.detail)
        for name, messages in exc.errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class CallForm(DayForm):
    """How the call went: one button per outcome; "call back at" needs the time."""

    outcome = forms.ChoiceField(label=_("Outcome"), choices=CallOutcome.choices)
    callback_at = _when_field(_("Call back at"), required=False)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )
    task_done = forms.BooleanField(label=_("This task is done"), required=False)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("outcome") == CallOutcome.CALLBACK and not cleaned.get("callback_at"):
            self.add_error("callback_at", _("Say when to call back."))
        if cleaned.get("outcome") != CallOutcome.CALLBACK:
            cleaned["callback_at"] = None
        return cleaned


class NextStepForm(DayForm):
    kind = forms.ChoiceField(label=_("Next step"), choices=TaskKind.choices)
    due_at = _when_field(_("When"), required=True)
    title = forms.CharField(label=_("What (optional)"), required=False, max_length=200)


class SnoozeForm(DayForm):
    """Later: in an hour, tomorrow morning or at a chosen time, with the reason."""

    when = forms.ChoiceField(
        label=_("Snooze until"),
        choices=[
            ("hour", _("In 1 hour")),
            ("tomorrow", _("Tomorrow 9:00")),
            ("pick", pgettext_lazy("snooze", "At the time below")),
        ],
    )
    due_at = _when_field(_("Time"), required=False)
    reason = forms.CharField(label=_("Why"), max_length=300)

    def target(self, now: dt.datetime) -> dt.datetime:
        """The new due time the choice means, now, in the user's time zone."""
        when = self.cleaned_data["when"]
        if when == "hour":
            return now + SNOOZE_HOUR
        if when == "tomorrow":
            tomorrow = timezone.localtime(now).date() + dt.timedelta(days=1)
            return dt.datetime.combine(tomorrow, MORNING, tzinfo=timezone.get_current_timezone())
        picked: dt.datetime = self.cleaned_data["due_at"]
        return picked

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("when") == "pick" and not cleaned.get("due_at"):
            self.add_error("due_at", _("Choose the time."))
        return cleaned


class MoveForm(DayForm):
    """Move the lead on; `lost` needs the reason (the existing list)."""

    to = forms.ChoiceField(label=_("Move to"))
    lost_reason = forms.TypedChoiceField(
        label=_("Lost reason"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Only when the lead is lost."),
    )
    competitor = forms.CharField(label=_("Lost to (optional)"), required=False, max_length=200)

    def __init__(
        self,
        data: QueryDict | None = None,
        *,
        moves: list[str],
        reasons: list[LostReason],
        prefix: str | None = None,
    ) -> None:
        super().__init__(data, prefix=prefix)
        allowed = [m for m in DAY_MOVES if m in moves]
        self.reasons = {r.pk: r for r in reasons}
        cast(forms.ChoiceField, self.fields["to"]).choices = [
            (str(m), LeadStatus(m).label) for m in allowed
        ]
        cast(forms.ChoiceField, self.fields["lost_reason"]).choices = [
            ("", _("Choose a reason"))
        ] + [(pk, r.name) for pk, r in self.reasons.items()]

    @property
    def is_available(self) -> bool:
        return bool(cast(forms.ChoiceField, self.fields["to"]).choices)

    @property
    def reason(self) -> LostReason | None:
        return self.reasons.get(self.cleaned_data.get("lost_reason") or 0)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("to") == LeadStatus.LOST and not cleaned.get("lost_reason"):
            self.add_error("lost_reason", _("Say why the lead was lost."))
        return cleaned
