"""The base of every lead-page form, and the helpers and choices the forms share."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from django import forms
from django.db.models import Field
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from leadloop.errors import LeadloopError, ValidationFailed
from leadloop.leads.models import (
    BantAnswer,
    Lead,
)

OWNER_ME = "me"
OWNER_UNASSIGNED = "unassigned"
SORT_CHOICES = (
    ("-created_at", _("Newest first")),
    ("created_at", _("Oldest first")),
    ("-updated_at", _("Recently updated")),
    ("last_name", _("Last name A–Z")),
    ("-last_name", _("Last name Z–A")),
    ("-priority", _("Highest priority")),
    ("-engagement_score", _("Most engaged")),
)


class UIForm(forms.Form):
    """A form whose invalid fields say so to screen readers, and that takes service errors."""

    def add_error(self, field: str | None, error: Any) -> None:
        super().add_error(field, error)
        for name in self.errors:
            if name in self.fields:
                attrs = self.fields[name].widget.attrs
                attrs["aria-invalid"] = "true"
                attrs["aria-describedby"] = f"id_{name}_errors"

    def apply_service_error(self, exc: LeadloopError) -> None:
        """Put a domain error's messages next to the fields they name, the rest on top."""
        if not isinstance(exc, ValidationFailed) or not exc.errors:
            # A refusal (wrong state, not allowed) is about the whole action: say it on top.
            self.add_error(None, exc.detail)
        for name, messages in exc.errors.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message if target else f"{name}: {message}")


# --- Lead list -----------------------------------------------------------------------------------


def model_field(field: str) -> Field[Any, Any]:
    return cast("Field[Any, Any]", Lead._meta.get_field(field))


def field_label(field: str) -> str:
    return str(capfirst(model_field(field).verbose_name))


def text_field(field: str, **kwargs: Any) -> forms.CharField:
    max_length = model_field(field).max_length
    return forms.CharField(
        label=field_label(field), required=False, max_length=max_length, **kwargs
    )


def dt_local(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    return timezone.localtime(value).strftime("%Y-%m-%dT%H:%M")


DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"})
BANT_CHOICES = [("", _("Unknown")), *BantAnswer.choices[1:]]
