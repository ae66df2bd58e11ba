"""What of a lead a partner user is shown: the organisation's field list applied to loaded rows,
to the timeline and to searches (accounts.lead_fields has the catalogue).

Hidden values are blanked on the loaded row ("" for text, None otherwise, {} for extra fields),
and `lead.shown` tells templates, the API and exports which keys to leave out altogether. A
blanked row refuses to be saved (`Lead.save`), so a service always writes from a fresh read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.lead_fields import BY_KEY, FieldView
from leadloop.accounts.selectors import lead_fields_for
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Activity, ActivityKind, ActorKind, Lead


def fields_shown_to(actor: Actor) -> FieldView:
    """The lead fields `actor` sees (every one, unless a partner's list hides some)."""
    return lead_fields_for(actor)


def _blank(field: models.Field[Any, Any]) -> Any:
    if isinstance(field, models.JSONField):
        return None if field.null else {}
    if field.null:
        return None
    if isinstance(field, models.CharField | models.TextField):
        return ""
    return None


def hide_fields(leads: Iterable[Lead], view: FieldView) -> None:
    """Blank on these loaded rows what `view` hides, and remember `view` on them (`lead.shown`).

    The source cannot be blanked (it is required); readers leave it out by `lead.shown.source`.
    """
    if view.everything:
        return
    columns = [Lead._meta.get_field(name) for name in sorted(view.hidden_columns)]
    for lead in leads:
        for field in columns:
            if field.is_relation and not field.null:
                continue
            setattr(lead, field.name, _blank(field))  # type: ignore[arg-type]
        lead._shown = view  # type: ignore[attr-defined]


def hide_fields_for(actor: Actor, leads: Iterable[Lead]) -> None:
    """`hide_fields` with the view of `actor` (nothing happens for staff)."""
    hide_fields(leads, fields_shown_to(actor))


def lead_label_for(lead: Lead, view: FieldView) -> str:
    """How a reader with `view` names the lead: name, else e-mail, else its number."""
    name = f"{lead.first_name} {lead.last_name}".strip() if view.shows("name") else ""
    return name or (lead.email if view.shows("email") else "") or f"#{lead.pk}"


# --- Filters and search ---------------------------------------------------------------------------

# Which key a list filter or a sort reads: a reader who does not see it may not filter on it,
# or the list would tell them the value.
FILTER_KEYS = {
    "source": "source",
    "campaign": "source",
    "grade": "grade",
    "organization": "company",
}
SORT_KEYS = {"last_name": "name", "priority": "scores", "engagement_score": "scores"}
SEARCH_COLUMNS = {
    "name": ("first_name", "last_name"),
    "email": ("email",),
    "company": ("company_name",),
    "phone": ("phone_raw", "phone_e164"),
}


def sort_shown(view: FieldView, sort: str) -> bool:
    """Whether a reader with `view` may sort by `sort` ("-priority", "created_at", …)."""
    key = SORT_KEYS.get(sort.lstrip("-"))
    return key is None or view.shows(key)


def refuse_hidden_filters(view: FieldView, *, given: dict[str, Any], sort: str) -> None:
    """ValidationFailed when a filter or the sort reads a field `view` hides."""
    message = _("You cannot filter or sort on a field your organisation does not show you.")
    errors = {
        name: [message]
        for name, key in FILTER_KEYS.items()
        if given.get(name) not in (None, (), "") and not view.shows(key)
    }
    if not sort_shown(view, sort):
        errors["sort"] = [message]
    if errors:
        raise ValidationFailed(message, errors=errors)


def searches_everything(view: FieldView) -> bool:
    """Whether the search index (which covers name, e-mail, company and phone) may answer."""
    return all(view.shows(key) for key in SEARCH_COLUMNS)


def search_shown_columns(
    queryset: QuerySet[Lead], words: list[str], view: FieldView
) -> QuerySet[Lead]:
    """Each word found in a column `view` shows (a substring, case-insensitive).

    For a partner whose list hides one of the indexed fields: the index would match a hidden
    phone number or e-mail and so reveal it. A partner's leads are few (the partial index
    `lead_partner_created` gives them), so a scan of those rows is cheap.
    """
    columns = [col for key, cols in SEARCH_COLUMNS.items() if view.shows(key) for col in cols]
    if not columns or not words:
        return queryset.none()
    for word in words:
        match = Q()
        for column in columns:
            match |= Q(**{f"{column}__icontains": word})
        if word.isdigit() and view.shows("phone"):
            # "0612345678" is "+31612345678" in E.164: match without the trunk zero.
            match |= Q(phone_e164__contains=word.lstrip("0") or word)
        queryset = queryset.filter(match)
    return queryset


# --- Timeline -------------------------------------------------------------------------------------

# Timeline entries about what a hidden key covers disappear whole.
_KIND_KEYS: dict[str, str] = {ActivityKind.REVIEWED: "fraud", ActivityKind.ASSESSED: "findings"}
# Entries whose text a person of the company wrote (notes, calls, reasons) or the routing added.
_WRITERS_OF_THE_COMPANY = (ActorKind.USER, ActorKind.SYSTEM)
# The `data` keys a partner's reader gets per kind; everything else stays with the company.
_DATA_SHOWN: dict[str, tuple[str, ...]] = {
    ActivityKind.STATUS_CHANGED: ("from", "to", "lost_reason", "order_value"),
    ActivityKind.FIELD_CHANGED: ("changes",),
    ActivityKind.ASSESSED: ("changes",),
    ActivityKind.CREATED: ("source",),
    ActivityKind.ASSIGNED: ("before", "after"),
    ActivityKind.MERGED: ("merged_id", "survivor_id"),
    ActivityKind.UNMERGED: ("merged_id", "survivor_id"),
}


def _column_key(column: str) -> str | None:
    name = column.removesuffix("_id")
    for field in BY_KEY.values():
        if name in field.columns or (name == "phone" and "phone_raw" in field.columns):
            return field.key
    return None


def _shown_column(column: str, view: FieldView) -> bool:
    key = _column_key(column)
    return key is None or view.shows(key)


def _shown_changes(changes: Any, view: FieldView) -> tuple[Any, list[str]]:
    """The changes to shown fields, and their names: a list of {field, old, new} (a person's
    edit) or a mapping of field to {old, new} (an assessment)."""
    if isinstance(changes, dict):
        kept = {name: value for name, value in changes.items() if _shown_column(name, view)}
        return kept, list(kept)
    rows = [c for c in changes or [] if isinstance(c, dict)]
    kept_rows = [c for c in rows if _shown_column(str(c.get("field", "")), view)]
    return kept_rows, [str(c.get("field", "")) for c in kept_rows]


def redact_timeline(entries: Iterable[Activity], view: FieldView) -> list[Activity]:
    """The timeline as a reader with `view` may read it: field changes to hidden fields left
    out, entries only about hidden things dropped, and (unless `staff_notes` is shown) the
    text the company's staff and its routing wrote left out. Returns unsaved copies."""
    entries = list(entries)
    if view.everything:
        return entries
    shown: list[Activity] = []
    for entry in entries:
        key = _KIND_KEYS.get(entry.kind)
        if key is not None and not view.shows(key):
            continue
        data = entry.data if isinstance(entry.data, dict) else {}
        kept = {name: data[name] for name in _DATA_SHOWN.get(entry.kind, ()) if name in data}
        names: list[str] = []
        if "changes" in kept:
            kept["changes"], names = _shown_changes(kept["changes"], view)
            if not names:
                continue
        if "source" in kept and not view.shows("source"):
            del kept["source"]
        if "order_value" in kept and not view.shows("revenue"):
            del kept["order_value"]
        message = entry.message
        if entry.actor_kind in _WRITERS_OF_THE_COMPANY and not view.shows("staff_notes"):
            if entry.kind == ActivityKind.NOTE:
                continue
            message = ""
        if names:
            message = ", ".join(names)
        elif entry.kind == ActivityKind.FORM_SUBMITTED and not view.shows("source"):
            message = ""  # the source's name
        copy = Activity(
            pk=entry.pk,
            lead_id=entry.lead_id,
            kind=entry.kind,
            actor_kind=entry.actor_kind,
            actor_user_id=entry.actor_user_id,
            actor_label=entry.actor_label,
            message=message,
            data=kept,
            created_at=entry.created_at,
        )
        shown.append(copy)
    return shown
