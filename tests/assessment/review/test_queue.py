"""The review queue page and API: true counts per tab, pages, and back to the same place."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from leadloop.assessment.review import views as review_views
from leadloop.intake import services as intake
from leadloop.leads.models import Lead, LeadHold

QUEUE = "/assessment/review/"


def _held(source, n: int, **fields) -> list[Lead]:
    held = []
    for i in range(n):
        body = {"first_name": "test", "email": f"t{i}@yopmail.com", **fields}
        submission = intake.receive(
            source=source,
            channel="http",
            body=json.dumps(body).encode(),
            content_type="application/json",
        )
        done = intake.process_submission(submission.pk)
        held.append(Lead.objects.get(pk=done.lead_id))
    assert all(lead.hold == LeadHold.FRAUD_REVIEW for lead in held)
    return held


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'action="/assessment/review/(\d+)/"', html)]


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(review_views, "PAGE_SIZE", 3)


def test_tabs_show_true_counts_and_pages_go_both_ways(logged_in_client, admin, source, small_pages):
    held = _held(source, 7)
    Lead.objects.filter(pk=held[0].pk).update(hold=LeadHold.DUPLICATE_REVIEW)
    client = logged_in_client(admin)

    first = client.get(QUEUE, {"hold": "fraud_review"}).text
    next_href = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(next_href).text
    prev_href = re.search(r'rel="prev" href="([^"]+)"', second).group(1).replace("&amp;", "&")
    back = client.get(prev_href).text

    tabs = re.findall(r'class="tab[^"]*"[^>]*>([^<]+)<span class="tab__count">([^<]+)<', first)
    assert [(label.strip(), count) for label, count in tabs] == [
        ("All", "7"),
        ("Fraud review", "6"),
        ("Duplicate review", "1"),
    ]
    assert "1–3 of 6" in first
    assert "4–6 of 6" in second
    assert 'rel="next"' not in second
    assert _ids(back) == _ids(first)
    assert set(_ids(first)).isdisjoint(_ids(second))
    assert held[0].pk not in _ids(first) + _ids(second)
    assert "hold=fraud_review" in next_href


def test_a_decision_returns_to_the_same_tab_and_page(logged_in_client, admin, source, small_pages):
    _held(source, 5)
    client = logged_in_client(admin)
    first = client.get(QUEUE, {"hold": "fraud_review"}).text
    next_href = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    lead_id = _ids(client.get(next_href).text)[0]

    response = client.post(
        reverse("assessment:review-decide", args=[lead_id]),
        {"decision": "reject", "next": next_href},
    )
    back = client.get(next_href).text
    elsewhere = client.post(
        reverse("assessment:review-decide", args=[_ids(first)[0]]),
        {"decision": "accept", "next": "https://evil.example/assessment/review/"},
    )

    assert response.status_code == 302
    assert response["Location"] == next_href
    assert back.count("flash--success") == 1  # once, not in the layout and the page both
    assert elsewhere["Location"] == QUEUE


def test_the_menu_badge_says_when_it_stopped_counting(logged_in_client, admin, source, monkeypatch):
    from leadloop.assessment.review import selectors
    from leadloop.core import navigation

    _held(source, 3)
    monkeypatch.setattr(navigation, "BADGE_CAP", 2)
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)

    page = logged_in_client(admin).get(QUEUE).text

    assert re.search(r'class="nav-badge">2\+<', page)
    assert '<span class="tab__count">2+</span>' in page


def test_the_api_pages_the_queue_with_link_headers(api_client_for, admin, source):
    held = _held(source, 3)
    client = api_client_for(admin)

    first = client.get("/api/v1/assessment/review?limit=2")
    link = first["Link"]
    next_url = re.search(r'<([^>]+)>; rel="next"', link).group(1)
    second = client.get(next_url)

    assert first.status_code == 200
    assert len(first.json()) == 2
    assert 'rel="prev"' not in link
    assert [row["lead_id"] for row in first.json() + second.json()] == sorted(
        (lead.pk for lead in held), reverse=True
    )
    assert 'rel="prev"' in second["Link"]
    bad = client.get("/api/v1/assessment/review?cursor=bm9wZQ")
    assert bad.status_code == 422
    assert bad["Content-Type"].startswith("application/problem+json")
