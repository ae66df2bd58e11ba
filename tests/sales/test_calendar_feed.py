"""The personal calendar feed: a revocable address (only its hash stored) that answers the user's
open tasks as iCalendar, without a login."""

import datetime as dt
import hashlib
import re
from zoneinfo import ZoneInfo

import icalendar
import pytest
import time_machine
from django.test import Client

from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services as lead_services
from leadloop.sales.models import CalendarFeed
from leadloop.sales.services import feeds, steps
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=AMS)
URL = re.compile(r"https?://[^\s<\"]+/sales/calendar/(ll[a-z]_[\w-]+)\.ics")


@pytest.fixture(autouse=True)
def _now(settings):
    settings.LEADLOOP_BASE_URL = "https://leads.example.nl"
    with time_machine.travel(NOW, tick=False):
        yield


def _path(raw):
    return f"/sales/calendar/{raw}.ics"


def _components(body):
    calendar = icalendar.Calendar.from_ical(body)
    return {str(c["UID"]): c for c in calendar.walk() if c.name in ("VEVENT", "VTODO")}


def test_a_feed_stores_only_the_hash_of_its_token(rep):
    raw = feeds.issue_feed(rep)

    stored = CalendarFeed.objects.get(user=rep)
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert re.fullmatch(r"llc_[\w-]{43}", raw)
    rows = [repr(row) for row in CalendarFeed.objects.values_list()]
    assert not any(raw in row for row in rows)
    assert feeds.feed_user(raw) == rep


def test_a_new_address_ends_the_old_one(rep):
    old = feeds.issue_feed(rep)

    new = feeds.issue_feed(rep)

    assert CalendarFeed.objects.filter(user=rep).count() == 1
    assert (feeds.feed_user(old), feeds.feed_user(new)) == (None, rep)
    assert Client().get(_path(old)).status_code == 404


def test_a_revoked_or_unknown_token_gets_404(rep):
    raw = feeds.issue_feed(rep)
    assert Client().get(_path(raw)).status_code == 200

    assert feeds.revoke_feed(rep) is True

    assert Client().get(_path(raw)).status_code == 404
    assert Client().get(_path("llc_" + "x" * 43)).status_code == 404
    assert Client().get(_path("nonsense")).status_code == 404
    assert feeds.revoke_feed(rep) is False


def test_an_inactive_user_gets_nothing(rep):
    raw = feeds.issue_feed(rep)
    rep.is_active = False
    rep.save(update_fields=["is_active"])

    assert Client().get(_path(raw)).status_code == 404


def test_the_feed_holds_the_open_tasks_as_icalendar(source, rep, teammate):
    ann = make_lead(source, assigned_to=rep, first_name="Ann", last_name="Smit")
    call = steps.add_task(
        ann, by=SYSTEM, kind="call", due_at=NOW + dt.timedelta(hours=2), owner=rep
    )
    meeting = steps.add_task(
        ann,
        by=SYSTEM,
        kind="meeting",
        due_at=NOW + dt.timedelta(days=3),
        owner=rep,
        duration_minutes=90,
        title="Visit at the shop",
    )
    mail = steps.add_task(
        ann, by=SYSTEM, kind="email", due_at=NOW - dt.timedelta(days=2), owner=rep
    )
    old = steps.add_task(ann, by=SYSTEM, kind="call", due_at=NOW - dt.timedelta(days=15), owner=rep)
    far = steps.add_task(ann, by=SYSTEM, kind="call", due_at=NOW + dt.timedelta(days=91), owner=rep)
    done = steps.add_task(ann, by=SYSTEM, kind="call", due_at=NOW, owner=rep)
    steps.complete_task(done, by=rep)
    theirs = make_lead(source, assigned_to=teammate)
    steps.add_task(theirs, by=SYSTEM, kind="call", due_at=NOW, owner=teammate)
    raw = feeds.issue_feed(rep)

    answer = Client().get(_path(raw))

    assert answer.status_code == 200
    assert answer["Content-Type"] == "text/calendar; charset=utf-8"
    assert answer["Cache-Control"] == "private, no-store"
    found = _components(answer.content)
    host = "leads.example.nl"
    assert set(found) == {f"task-{t.pk}@{host}" for t in (call, meeting, mail)}
    event = found[f"task-{call.pk}@{host}"]
    assert event.name == "VEVENT"
    assert str(event["SUMMARY"]) == "Call: Ann Smit"
    assert event.decoded("DTSTART") == NOW + dt.timedelta(hours=2)
    assert event.decoded("DTEND") == NOW + dt.timedelta(hours=2, minutes=30)
    assert str(event["URL"]) == f"https://leads.example.nl/leads/{ann.pk}/"
    visit = found[f"task-{meeting.pk}@{host}"]
    assert (visit.name, str(visit["SUMMARY"])) == ("VEVENT", "Meeting: Ann Smit")
    assert visit.decoded("DTEND") - visit.decoded("DTSTART") == dt.timedelta(minutes=90)
    assert "Visit at the shop" in str(visit["DESCRIPTION"])
    todo = found[f"task-{mail.pk}@{host}"]
    assert (todo.name, str(todo["SUMMARY"])) == ("VTODO", "E-mail: Ann Smit")
    assert {old.pk, far.pk, done.pk}.isdisjoint(int(uid[5:].split("@")[0]) for uid in found)


def test_the_uid_stays_and_the_sequence_grows_when_a_task_moves(source, rep):
    lead = make_lead(source, assigned_to=rep)
    task = steps.add_task(lead, by=SYSTEM, kind="call", due_at=NOW, owner=rep)
    raw = feeds.issue_feed(rep)
    before = _components(Client().get(_path(raw)).content)

    steps.move_task(task, by=rep, due_at=NOW + dt.timedelta(days=1), reason="Asked", snooze=True)
    after = _components(Client().get(_path(raw)).content)

    assert list(before) == list(after)
    uid = next(iter(after))
    assert (before[uid]["SEQUENCE"], after[uid]["SEQUENCE"]) == (0, 1)
    assert after[uid].decoded("DTSTART") == NOW + dt.timedelta(days=1)


def test_a_task_on_a_lead_reassigned_away_leaves_the_feed(source, rep, teammate):
    lead = make_lead(source, assigned_to=rep)
    steps.add_task(lead, by=SYSTEM, kind="call", due_at=NOW, owner=rep)
    raw = feeds.issue_feed(rep)
    assert len(_components(Client().get(_path(raw)).content)) == 1

    lead_services.assign_lead(lead, by=SYSTEM, to=teammate)

    assert _components(Client().get(_path(raw)).content) == {}


def test_a_hostile_name_is_text_in_the_feed(source, rep):
    lead = make_lead(source, assigned_to=rep, first_name="Eve\r\nBEGIN:VEVENT", last_name="X")
    steps.add_task(lead, by=SYSTEM, kind="call", due_at=NOW, owner=rep)

    body = feeds.render_calendar(rep)

    assert body.split(b"\r\n").count(b"BEGIN:VEVENT") == 1
    (event,) = _components(body).values()
    assert str(event["SUMMARY"]).startswith("Call: Eve")


def test_the_page_shows_the_address_once_and_can_revoke_it(rep, logged_in_client):
    client = logged_in_client(rep)

    made = client.post("/sales/my-day/calendar-feed/", {"action": "create"})
    later = client.get("/sales/my-day/")

    raw = URL.search(made.content.decode()).group(1)
    assert made.status_code == 200
    assert made["Cache-Control"] == "private, no-store"
    assert feeds.feed_user(raw) == rep
    assert raw not in later.content.decode()
    assert "is active" in later.content.decode()

    revoked = client.post("/sales/my-day/calendar-feed/", {"action": "revoke"})

    assert revoked.status_code == 302
    assert CalendarFeed.objects.filter(user=rep).count() == 0


def test_renewing_from_the_page_with_htmx_answers_the_card_with_the_new_address(
    rep, logged_in_client
):
    old = feeds.issue_feed(rep)

    answer = logged_in_client(rep).post(
        "/sales/my-day/calendar-feed/", {"action": "renew"}, headers={"HX-Request": "true"}
    )

    html = answer.content.decode()
    raw = URL.search(html).group(1)
    assert html.lstrip().startswith('<section class="card day-feed" id="calendar-feed"')
    assert (feeds.feed_user(old), feeds.feed_user(raw)) == (None, rep)


def test_the_api_makes_and_revokes_the_address(rep, api_client_for):
    client = api_client_for(rep)

    made = client.post("/api/v1/sales/calendar-feed")
    raw = URL.search(made.json()["url"]).group(1)
    assert made.status_code == 201
    assert made.json()["url"] == f"https://leads.example.nl/sales/calendar/{raw}.ics"
    assert Client().get(_path(raw)).status_code == 200

    revoked = client.delete("/api/v1/sales/calendar-feed")

    assert revoked.status_code == 204
    assert Client().get(_path(raw)).status_code == 404


def test_a_partner_gets_no_feed(partner_user, api_client_for, logged_in_client):
    api = api_client_for(partner_user).post("/api/v1/sales/calendar-feed")
    page = logged_in_client(partner_user).post("/sales/my-day/calendar-feed/", {"action": "create"})

    assert (api.status_code, page.status_code) == (403, 403)
    assert CalendarFeed.objects.count() == 0
