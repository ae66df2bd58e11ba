"""Keyset pages forwards and back, with the position each page starts at (core.paging)."""

import base64
import datetime as dt
import json

import pytest
from django.http import QueryDict
from django.utils import translation

from leadloop.accounts.actors import SYSTEM
from leadloop.core import paging
from leadloop.core.cursors import encode_cursor
from leadloop.errors import ValidationFailed
from leadloop.leads import selectors
from leadloop.leads.models import Lead
from leadloop.leads.selectors import LeadFilters
from tests.factories.leads import make_lead

BASE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def leads23(source):
    # Seven distinct times for 23 leads: ties on the sort value are broken by the id.
    return [
        make_lead(source, last_name=f"N{i}", at=BASE + dt.timedelta(hours=i % 7)) for i in range(23)
    ]


def _page(cursor=None, sort="-created_at", limit=5):
    return selectors.list_leads(SYSTEM, LeadFilters(sort=sort), cursor=cursor, limit=limit)


def _walk_forward(sort="-created_at", limit=5):
    pages, cursor = [], None
    while True:
        page = _page(cursor, sort, limit)
        pages.append(page)
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize("sort", ["-created_at", "created_at", "last_name", "-priority"])
def test_previous_walks_back_through_the_same_pages(leads23, sort):
    forward = _walk_forward(sort)
    back = [forward[-1]]
    while back[-1].previous_cursor:
        back.append(_page(back[-1].previous_cursor, sort))

    assert [len(p.items) for p in forward] == [5, 5, 5, 5, 3]
    assert [[lead.pk for lead in p.items] for p in reversed(back)] == [
        [lead.pk for lead in p.items] for p in forward
    ]
    assert [(p.start, p.end) for p in forward] == [(1, 5), (6, 10), (11, 15), (16, 20), (21, 23)]
    assert [p.start for p in reversed(back)] == [1, 6, 11, 16, 21]
    assert forward[0].previous_cursor is None
    assert back[-1].is_first


def test_a_page_reached_by_previous_offers_next_again(leads23):
    second = _walk_forward()[1]
    first = _page(second.previous_cursor)

    again = _page(first.next_cursor)

    assert [lead.pk for lead in again.items] == [lead.pk for lead in second.items]
    assert again.start == 6


def test_positions_that_no_longer_add_up_are_not_shown(leads23):
    third = _walk_forward()[2]
    # Rows appear before the page while the reader pages: going back, the page before the
    # second is no longer the first, yet the cursor says it starts at 1.
    for i in range(3):
        make_lead(Lead.objects.first().source, last_name=f"New{i}", at=BASE + dt.timedelta(days=2))

    second = _page(third.previous_cursor)
    first = _page(second.previous_cursor)
    start = _page(first.previous_cursor)

    assert second.start == 6
    assert first.start is None  # 8 rows lie before the second page now, not 5
    assert start.start == 1
    assert start.previous_cursor is None


def test_cursors_from_before_previous_existed_still_read(leads23):
    first = _page()
    last = first.items[-1]
    old = encode_cursor(last.created_at, last.pk)

    page = _page(old)

    assert [lead.pk for lead in page.items] == [lead.pk for lead in _page(first.next_cursor).items]
    assert page.start is None
    assert page.previous_cursor is not None


@pytest.mark.parametrize(
    "doc",
    [
        {"v": ["2026-01-01T00:00:00+00:00"], "id": "1"},
        {"v": ["2026-01-01T00:00:00+00:00"], "id": True},
        {"v": [], "id": 1},
        {"v": ["yesterday"], "id": 1},
        {"v": [None], "id": 1},
        {"v": ["2026-01-01T00:00:00+00:00"], "id": 1, "at": "x"},
        ["a", "b", "c"],
        "just text",
    ],
)
def test_a_forged_cursor_is_a_validation_error(leads23, doc):
    cursor = base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")

    with pytest.raises(ValidationFailed):
        _page(cursor)


def test_a_cursor_cannot_place_a_page_before_the_first_row(leads23):
    cursor = paging.encode(["2026-01-01T05:00:00+00:00"], 10, at=-40)

    page = _page(cursor)

    assert page.start is None


def test_position_says_where_the_reader_is_and_how_sure_the_total_is(leads23):
    pages = _walk_forward()

    with translation.override("en"):
        exact = paging.position(pages[1], 23, False)
        capped = paging.position(pages[1], 20, True)
        past_cap = paging.position(pages[3], 12, True)
        last_page = paging.position(pages[4], 12, True)
    with translation.override("nl"):
        dutch = paging.position(pages[1], 2300, True)

    assert exact == "6–10 of 23"
    assert capped == "6–10 of 20+"
    assert past_cap == "16–20 of 20+"
    assert last_page == "21–23 of 23"  # the last page makes a capped count exact
    assert dutch == "6–10 van 2.300+"


def test_pager_links_keep_the_filters_and_drop_the_old_cursor(leads23):
    pages = _walk_forward()
    query = QueryDict("status=new&status=won&q=x&cursor=stale")

    links = paging.pager(query, pages[1], 23, False)

    assert links.first_query == "status=new&status=won&q=x"
    assert links.next_query.startswith("status=new&status=won&q=x&cursor=")
    assert links.previous_query.endswith(pages[1].previous_cursor)
    assert "stale" not in links.next_query + links.previous_query + links.first_query
    assert links.position == "6–10 of 23"


def test_two_sort_fields_page_through_ties(source):
    """The review queue sorts by fraud score, then time: pages cross rows that tie on both."""
    from leadloop.assessment.review.selectors import list_held_leads

    for i in range(11):
        lead = make_lead(source, last_name=f"H{i}", at=BASE + dt.timedelta(hours=i % 2))
        Lead.objects.filter(pk=lead.pk).update(
            hold="fraud_review", fraud_score=None if i % 4 == 0 else (i % 3) * 10
        )

    seen, cursor = [], None
    while True:
        page = list_held_leads(SYSTEM, cursor=cursor, limit=3)
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    back = list_held_leads(SYSTEM, cursor=page.previous_cursor, limit=3)

    keys = [((lead.fraud_score or 0), lead.created_at, lead.pk) for lead in seen]
    assert len({lead.pk for lead in seen}) == 11
    assert keys == sorted(keys, reverse=True)
    assert [lead.pk for lead in back.items] == [lead.pk for lead in seen[6:9]]
    assert back.start == 7


def test_a_page_emptied_while_paging_still_leads_back_to_the_first(leads23):
    second = _walk_forward()[1]
    Lead.objects.all().delete()

    emptied = _page(second.next_cursor)
    links = paging.pager({}, emptied, 0, False)
    nothing_at_all = paging.pager({}, _page(), 0, False)

    assert emptied.items == []
    assert links.shown
    assert links.offers_first
    assert not nothing_at_all.shown
