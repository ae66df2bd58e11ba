"""Keyset pages with Previous, Next and a position ("51–100 of 1,000+").

    KEYSET = Keyset(("received_at",), ("datetime",))
    page = paginate(queryset, KEYSET, cursor=request.GET.get("cursor"), limit=50)
    page.items, page.next_cursor, page.previous_cursor, page.start, page.end

A page is read by its sort values and id, never by an offset, so page 1,000 costs what page 1
costs. A cursor carries the (values, id) of the row a page starts after (or, going back, before)
and the position that row has, so the list can say where the reader is without counting what
lies before. Positions can drift when rows come and go while someone pages; going back to the
first page sets them right, and a position that no longer adds up is not shown.

A cursor is opaque URL-safe base64 of JSON. Older cursors (`[value, id]`, core.cursors) still
read as "next, position unknown". Anything else is a ValidationFailed on `cursor`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

from django.db.models import Model, Q, QuerySet
from django.http import QueryDict
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from leadloop.core.cursors import Kind
from leadloop.errors import ValidationFailed

T = TypeVar("T", bound=Model)


@dataclass(frozen=True)
class Keyset:
    """The order a list pages in: `fields` (each read back as its `kinds`), then the id, all
    descending or all ascending. A field may be an annotation on the queryset."""

    fields: tuple[str, ...]
    kinds: tuple[Kind, ...]
    descending: bool = True

    @property
    def order(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}{name}" for name in (*self.fields, "id")]


@dataclass(frozen=True)
class Cursor:
    values: tuple[Any, ...]
    pk: int
    backwards: bool = False
    at: int | None = None  # position of the first row the cursor leads to (going forwards)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None
    start: int | None  # 1-based position of the first item, None when not known

    @property
    def end(self) -> int | None:
        return None if self.start is None else self.start + len(self.items) - 1

    @property
    def is_first(self) -> bool:
        return self.previous_cursor is None


def encode(values: Iterable[Any], pk: int, *, backwards: bool = False, at: int | None) -> str:
    shown = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    doc: dict[str, Any] = {"v": shown, "id": pk}
    if backwards:
        doc["b"] = 1
    if at is not None:
        doc["at"] = at
    raw = json.dumps(doc, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, keyset: Keyset) -> Cursor:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        doc = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(doc, list) and len(doc) == 2 and len(keyset.fields) == 1:
            doc = {"v": [doc[0]], "id": doc[1]}  # a cursor from before Previous existed
        if not isinstance(doc, dict):
            raise TypeError(doc)
        values = doc["v"]
        pk, at = doc["id"], doc.get("at")
        if not isinstance(values, list) or len(values) != len(keyset.fields):
            raise TypeError(values)
        for number in (pk, at):
            if number is not None and (isinstance(number, bool) or not isinstance(number, int)):
                raise TypeError(number)
        read = tuple(_read(v, kind) for v, kind in zip(values, keyset.kinds, strict=True))
        return Cursor(read, pk, bool(doc.get("b")), at if at is None or at >= 1 else None)
    except (ValueError, TypeError, KeyError, OverflowError, binascii.Error) as exc:
        raise ValidationFailed(
            _("The cursor is not valid."), errors={"cursor": [_("Not valid.")]}
        ) from exc


def _read(value: Any, kind: Kind) -> Any:
    if value is None:
        raise TypeError(value)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    if kind == "int":
        if isinstance(value, bool):
            raise TypeError(value)
        return int(value)
    if kind == "float":
        return float(value)
    if not isinstance(value, str):
        raise TypeError(value)
    return value


def _after(keyset: Keyset, cursor: Cursor, *, forwards: bool) -> Q:
    """Rows after the cursor's row in the direction of travel: (a, b, id) < (va, vb, pk) spelled
    out, plus a redundant bound on the first field so the database walks its index."""
    op = "lt" if keyset.descending == forwards else "gt"
    names = (*keyset.fields, "pk")
    values = (*cursor.values, cursor.pk)
    condition = Q()
    for i, name in enumerate(names):
        step = Q(**dict(zip(names[:i], values[:i], strict=True)))
        condition |= step & Q(**{f"{name}__{op}": values[i]})
    return Q(**{f"{names[0]}__{op}e": values[0]}) & condition


def paginate(
    queryset: QuerySet[T],
    keyset: Keyset,
    *,
    cursor: str | None,
    limit: int,
    load: Callable[[list[int]], dict[int, T]] | None = None,
) -> Page[T]:
    """One page of `queryset` in `keyset` order, starting after (or ending before) `cursor`.

    With `load`, the page's keys are read first from the bare rows and `load` fetches the rows
    by id: joins in the first query can cost a database its index plan (the lead list). Without
    it, the rows come in one query as `queryset` selects them.
    """
    place = decode(cursor, keyset) if cursor else None
    forwards = place is None or not place.backwards
    qs = queryset
    if place is not None:
        qs = qs.filter(_after(keyset, place, forwards=forwards))
    order = keyset.order if forwards else [_flip(o) for o in keyset.order]
    if load is None:
        rows = list(qs.order_by(*order)[: limit + 1])
        keys = [(*(getattr(row, name) for name in keyset.fields), row.pk) for row in rows]
    else:
        keys = list(qs.order_by(*order).values_list(*keyset.fields, "pk")[: limit + 1])
    more = len(keys) > limit
    keys = keys[:limit]
    if not forwards:
        keys.reverse()
    by_id = {row.pk: row for row in rows} if load is None else load([key[-1] for key in keys])
    items = [by_id[key[-1]] for key in keys if key[-1] in by_id]
    start = _start(place, forwards=forwards, more=more, count=len(keys))
    first, last = (keys[0], keys[-1]) if keys else (None, None)
    has_next = more if forwards else True
    has_previous = place is not None if forwards else more
    next_at = None if start is None else start + len(keys)
    return Page(
        items=items,
        next_cursor=encode(last[:-1], last[-1], at=next_at) if has_next and last else None,
        previous_cursor=encode(first[:-1], first[-1], backwards=True, at=start)
        if has_previous and first
        else None,
        start=start if keys or place is None else None,
    )


def _start(place: Cursor | None, *, forwards: bool, more: bool, count: int) -> int | None:
    if place is None:
        return 1
    if forwards:
        return place.at
    if not more:
        return 1  # back at the beginning: positions are exact again
    if place.at is None or place.at - count <= 1:
        return None
    return place.at - count


def _flip(order: str) -> str:
    return order[1:] if order.startswith("-") else f"-{order}"


# --- Shown on a page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Pager:
    """What the shared pager template (web/_pager.html) shows: the links and the position."""

    first_query: str
    previous_query: str
    next_query: str
    position: str
    # Any page but the first offers the way back to it, even one that came up empty because
    # its rows went away while the reader paged.
    offers_first: bool = False

    @property
    def shown(self) -> bool:
        return bool(self.previous_query or self.next_query or self.offers_first)


def total_shown(page: Page[Any], total: int, capped: bool) -> tuple[int, bool]:
    """The number of rows a list should claim and whether it is a lower bound: a capped count
    grows with what the reader has already paged past, and the last page makes it exact."""
    end = page.end or 0
    if capped and page.next_cursor is None and page.start is not None:
        return end, False
    if capped:
        return max(total, end), True
    return max(total, end), False


def pager(query: QueryDict | dict[str, str], page: Page[Any], total: int, capped: bool) -> Pager:
    """Links for `page` that keep the list's other parameters, and its position, e.g.
    "51–100 of 1,000+"."""
    kept = QueryDict(mutable=True)
    if isinstance(query, QueryDict):
        for key, values in query.lists():
            kept.setlist(key, values)
    else:
        for key, value in query.items():
            kept[key] = value
    kept.pop("cursor", None)

    def with_cursor(cursor: str | None) -> str:
        if not cursor:
            return ""
        return urlencode([*kept.lists(), ("cursor", [cursor])], doseq=True)

    return Pager(
        first_query=kept.urlencode(),
        previous_query=with_cursor(page.previous_cursor),
        next_query=with_cursor(page.next_cursor),
        position=position(page, total, capped),
        offers_first=bool(page.previous_cursor) or page.start != 1,
    )


def position(page: Page[Any], total: int, capped: bool) -> str:
    if page.start is None or not page.items:
        return ""
    shown = count_text(*total_shown(page, total, capped))
    return _("%(first)s–%(last)s of %(total)s") % {
        "first": _n(page.start),
        "last": _n(page.end or page.start),
        "total": shown,
    }


def count_text(count: int, capped: bool) -> str:
    """A count as a list or a tab shows it: "1,000+" when it was capped."""
    return _n(count) + ("+" if capped else "")


def _n(number: int) -> str:
    return number_format(number, force_grouping=True)
