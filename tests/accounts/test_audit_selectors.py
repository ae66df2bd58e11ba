"""Reading the audit log: admins only (page, API, CLI), filters, newest first, keyset pages."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
import time_machine
from django.core.management import call_command
from django.urls import reverse

from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditEvent, AuditTarget

PAGE = reverse("accounts:audit-list")
API = "/api/v1/audit"


def _view(actor, lead_id: int, action: str = AuditAction.LEAD_VIEWED):
    return record_audit(actor=actor, action=action, target_type=AuditTarget.LEAD, target_id=lead_id)


def _rows(response) -> list[str]:
    return re.findall(r'<td data-label="Target">(.*?)</td>', response.text, re.S)


@pytest.mark.parametrize("role", ["marketing", "manager", "rep", "partner_user"])
def test_only_admins_open_the_audit_page_and_see_it_in_the_menu(
    logged_in_client, request, admin, role
):
    user = request.getfixturevalue(role)

    refused = logged_in_client(user).get(PAGE)
    their_menu = logged_in_client(user).get(reverse("leads:lead-list")).text
    allowed = logged_in_client(admin).get(PAGE)
    admin_menu = logged_in_client(admin).get(reverse("leads:lead-list")).text

    assert (refused.status_code, allowed.status_code) == (403, 200)
    assert f'href="{PAGE}"' not in their_menu
    assert f'href="{PAGE}"' in admin_menu


@pytest.mark.parametrize("role", ["marketing", "manager", "rep", "partner_user"])
def test_only_admins_read_the_audit_api(api_client_for, request, admin, role):
    user = request.getfixturevalue(role)
    _view(admin, 1)

    refused = api_client_for(user).get(API)
    allowed = api_client_for(admin).get(API)

    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    assert "items" not in refused.json()
    assert allowed.status_code == 200


def test_an_anonymous_caller_gets_401_and_the_login_page(client, db):
    assert client.get(API).status_code == 401
    assert client.get(PAGE).status_code == 302


def test_the_api_filters_by_action_lead_actor_and_day(api_client_for, admin, rep):
    with time_machine.travel(dt.datetime(2026, 3, 1, 10, tzinfo=dt.UTC), tick=False):
        _view(rep, 5)
    with time_machine.travel(dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), tick=False):
        wanted = _view(rep, 5, AuditAction.LEAD_CHANGED)
        _view(admin, 5, AuditAction.LEAD_CHANGED)
        _view(rep, 6, AuditAction.LEAD_CHANGED)
    client = api_client_for(admin)

    body = client.get(
        API, {"action": "lead_changed", "lead": 5, "actor": "rep", "since": "2026-03-02"}
    ).json()
    none_before = client.get(API, {"lead": 5, "until": "2026-02-28"}).json()

    assert [item["id"] for item in body["items"]] == [wanted.pk]
    assert body["items"][0] | {"at": None} == {
        "id": wanted.pk,
        "at": None,
        "actor_id": rep.pk,
        "actor": "rep",
        "action": "lead_changed",
        "target_type": "lead",
        "target_id": "5",
        "target_label": "#5",
        "data": {},
        "ip": "",
        "method": "",
        "path": "",
        "request_id": "",
    }
    assert none_before["items"] == []


def test_the_api_pages_newest_first_with_a_keyset_cursor(api_client_for, admin):
    events = [_view(admin, n) for n in range(1, 6)]
    client = api_client_for(admin)

    first = client.get(API, {"target_type": "lead", "limit": 2}).json()
    second = client.get(API, {"target_type": "lead", "limit": 2, "before": first["next_before"]})
    last = client.get(
        API, {"target_type": "lead", "limit": 2, "before": second.json()["next_before"]}
    ).json()

    assert [i["target_id"] for i in first["items"]] == ["5", "4"]
    assert [i["target_id"] for i in second.json()["items"]] == ["3", "2"]
    assert [i["target_id"] for i in last["items"]] == ["1"]
    assert last["next_before"] is None
    assert first["next_before"] == events[3].pk


def test_a_bad_filter_is_a_problem_document(api_client_for, admin):
    response = api_client_for(admin).get(API, {"since": "yesterday", "limit": 10_000})

    assert response.status_code == 422
    fields = {error["field"] for error in response.json()["errors"]}
    assert fields == {"since", "limit"}


def test_the_page_shows_fifty_newest_first_and_links_to_older(logged_in_client, admin):
    for n in range(1, 56):
        _view(admin, n)
    client = logged_in_client(admin)

    first = client.get(PAGE, {"target_type": "lead"})
    older_link = re.search(r'rel="next" href="([^"]+)"', first.text)
    second = client.get(older_link.group(1).replace("&amp;", "&"))
    newer_link = re.search(r'rel="prev" href="([^"]+)"', second.text)
    back = client.get(newer_link.group(1).replace("&amp;", "&"))

    assert len(_rows(first)) == 50
    assert "1–50 of 55" in first.text
    assert "51–55 of 55" in second.text
    assert _rows(back) == _rows(first)
    assert "target_type=lead" in older_link.group(1)
    assert ">Lead #55</a>" in _rows(first)[0]
    assert ">Lead #6</a>" in _rows(first)[-1]
    assert [re.search(r"#(\d+)", row).group(1) for row in _rows(second)] == [
        "5",
        "4",
        "3",
        "2",
        "1",
    ]


def test_the_page_searches_the_target_label_and_shows_dutch(logged_in_client, admin):
    record_audit(
        actor=admin,
        action=AuditAction.SOURCE_CHANGED,
        target_type=AuditTarget.SOURCE,
        target_id=3,
        target_label="Partner feed",
        data={"change": "key_rotated"},
    )
    _view(admin, 9)
    client = logged_in_client(admin)

    found = client.get(PAGE, {"q": "partner"})
    dutch = client.get(PAGE, {"q": "partner"}, headers={"Accept-Language": "nl"})

    assert len(_rows(found)) == 1
    assert "Partner feed" in found.text
    assert "change=key_rotated" in found.text
    assert "Auditlogboek" in dutch.text
    assert "Bron gewijzigd" in dutch.text


def test_a_hostile_label_is_shown_as_text(logged_in_client, admin):
    record_audit(
        actor=admin,
        action=AuditAction.USER_CREATED,
        target_type=AuditTarget.USER,
        target_id=1,
        target_label="<script>alert(1)</script>",
        data={"role": "<img src=x onerror=alert(1)>"},
    )

    response = logged_in_client(admin).get(PAGE)

    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<img src=x" not in response.text


def test_the_page_costs_the_same_queries_for_five_or_fifty_events(
    logged_in_client, admin, django_assert_num_queries
):
    client = logged_in_client(admin)
    for n in range(5):
        _view(admin, n)
    client.get(PAGE)
    with django_assert_num_queries(QUERIES):
        client.get(PAGE)
    for n in range(50):
        _view(admin, n)

    with django_assert_num_queries(QUERIES):
        client.get(PAGE)


# Session, user, the page of events and their capped count; the menu's badges cost four more
# (held leads, rejected submissions, unread notifications, returns of sold leads to decide).
QUERIES = 8


def test_the_cli_lists_a_leads_events_as_json(admin, rep, capsys):
    _view(rep, 5)
    _view(rep, 6)
    _view(admin, 5, AuditAction.LEAD_CHANGED)

    call_command("audit", "list", "--lead", "5", "--json")
    rows = json.loads(capsys.readouterr().out)
    call_command("audit", "list", "--lead", "5", "--actor", "rep")
    text = capsys.readouterr().out

    assert [(r["actor"], r["action"], r["target_id"]) for r in rows] == [
        ("admin", "lead_changed", "5"),
        ("rep", "lead_viewed", "5"),
    ]
    assert text.strip().count("\n") == 0
    assert "rep" in text
    assert "lead_viewed" in text
    assert AuditEvent.objects.count() >= 3
