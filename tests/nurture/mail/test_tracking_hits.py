"""A pixel or click hit only appends a row; `process_hits` judges the waiting hits a few
seconds later, exactly once each, even when a run dies half-way, and then writes the timeline."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend

from leadloop.leads.models import Activity, ActivityKind
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.models import TrackingEvent, TrackingHit
from leadloop.nurture.mail.services import privacy, tokens, tracking

pytestmark = pytest.mark.django_db
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
LATER = START + dt.timedelta(hours=2)
BROWSER = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36"


@pytest.fixture
def sent(inbox, template, lead, marketing):
    with time_machine.travel(START, tick=False):
        message = mail.send_marketing_email(lead, template, by=marketing)
        mail.send_waiting()
    message.refresh_from_db()
    return message


def _open(message):
    path = reverse("nurture:mail-open", args=[tokens.open_token(message.key)])
    return Client().get(path, headers={"User-Agent": BROWSER})


def _click(message, index):
    path = reverse("nurture:mail-click", args=[tokens.click_token(message.key, index)])
    return Client().get(path, headers={"User-Agent": BROWSER})


def _statements(queries) -> list[str]:
    return [
        q["sql"].split(" (")[0].split(" WHERE")[0]
        for q in queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def _timeline(message, kind) -> int:
    return Activity.objects.filter(lead_id=message.lead_id, kind=kind).count()


def test_the_pixel_reads_nothing_and_writes_one_narrow_row(sent):
    with time_machine.travel(LATER, tick=False), CaptureQueriesContext(connection) as queries:
        response = _open(sent)

    assert response.status_code == 200
    assert _statements(queries.captured_queries) == ['INSERT INTO "nurture_trackinghit"']
    hit = TrackingHit.objects.get()
    assert (hit.key, hit.kind, hit.link_index, hit.at, hit.user_agent) == (
        sent.key,
        "open",
        None,
        LATER,
        BROWSER,
    )


def test_the_click_reads_its_link_and_writes_one_narrow_row(sent):
    with time_machine.travel(LATER, tick=False), CaptureQueriesContext(connection) as queries:
        response = _click(sent, 1)

    assert response.status_code == 302
    assert response["Location"] == "https://acme.example/blog"
    assert _statements(queries.captured_queries) == [
        'SELECT "links" FROM "nurture_marketingmessage"',
        'INSERT INTO "nurture_trackinghit"',
    ]
    assert TrackingHit.objects.get().link_index == 1


def test_a_second_click_on_the_same_mail_reads_nothing(sent):
    with time_machine.travel(LATER, tick=False):
        _click(sent, 0)
        with CaptureQueriesContext(connection) as queries:
            response = _click(sent, 1)

    assert response["Location"] == "https://acme.example/blog"
    assert _statements(queries.captured_queries) == ['INSERT INTO "nurture_trackinghit"']
    assert TrackingHit.objects.count() == 2


def test_a_hit_queues_the_judging_at_most_every_two_seconds(sent, monkeypatch):
    monkeypatch.setattr(tracking, "_last_nudge", [0.0])
    default_task_backend.clear()

    with time_machine.travel(LATER, tick=False):
        for _ in range(3):
            _open(sent)

    queued = [r.task.module_path for r in default_task_backend.results]
    assert queued == ["leadloop.nurture.mail.tasks.process_tracking_hits_task"]


def test_a_hit_reaches_the_timeline_when_it_is_judged_not_inside_the_request(sent):
    with time_machine.travel(LATER, tick=False):
        _open(sent)

    assert not TrackingEvent.objects.exists()
    assert _timeline(sent, ActivityKind.EMAIL_OPENED) == 0

    assert mail.process_hits() == 1

    assert not TrackingHit.objects.exists()
    event = TrackingEvent.objects.get()
    assert (event.verdict, event.counted, event.at) == ("human", True, LATER)
    assert event.logged_at is not None
    assert _timeline(sent, ActivityKind.EMAIL_OPENED) == 1
    sent.refresh_from_db()
    assert sent.first_opened_at == LATER


def test_hits_are_judged_in_the_order_they_came_across_batches(sent):
    with time_machine.travel(LATER, tick=False):
        for _ in range(3):
            _open(sent)
        _click(sent, 0)
        _click(sent, 1)

    assert mail.process_hits(batch=2) == 5

    verdicts = list(TrackingEvent.objects.order_by("pk").values_list("kind", "verdict"))
    assert verdicts == [
        ("open", "human"),
        ("open", "repeat"),
        ("open", "repeat"),
        ("click", "human"),
        ("click", "repeat"),
    ]
    assert not TrackingHit.objects.exists()
    assert _timeline(sent, ActivityKind.EMAIL_OPENED) == 1
    assert _timeline(sent, ActivityKind.EMAIL_CLICKED) == 1


def test_a_crash_while_judging_loses_no_hit_and_counts_none_twice(sent, monkeypatch):
    with time_machine.travel(LATER, tick=False):
        _open(sent)
        _open(sent)
        _click(sent, 0)
    judged = []
    real = tracking._verdict

    def dies_on_the_third(message, hit):
        if len(judged) == 2:
            raise RuntimeError("worker killed")
        judged.append(hit.pk)
        return real(message, hit)

    with monkeypatch.context() as patched:
        patched.setattr(tracking, "_verdict", dies_on_the_third)
        with pytest.raises(RuntimeError):
            mail.process_hits()

    assert TrackingHit.objects.count() == 3
    assert not TrackingEvent.objects.exists()
    sent.refresh_from_db()
    assert sent.first_opened_at is None  # rolled back with the batch

    assert mail.process_hits() == 3
    assert mail.process_hits() == 0

    verdicts = list(TrackingEvent.objects.order_by("pk").values_list("verdict", flat=True))
    assert verdicts == ["human", "repeat", "human"]
    assert _timeline(sent, ActivityKind.EMAIL_OPENED) == 1
    assert _timeline(sent, ActivityKind.EMAIL_CLICKED) == 1


def test_a_timeline_entry_lost_to_a_crash_is_written_by_the_next_run_once(sent, monkeypatch):
    with time_machine.travel(LATER, tick=False):
        _open(sent)

    def rescoring_fails(*args, **kwargs):
        raise RuntimeError("worker killed")

    with monkeypatch.context() as patched:
        patched.setattr(tracking.assessment, "log_engagement", rescoring_fails)
        mail.process_hits()

    event = TrackingEvent.objects.get()
    assert (event.counted, event.logged_at) == (True, None)
    assert _timeline(sent, ActivityKind.EMAIL_OPENED) == 0

    mail.process_hits()
    mail.process_hits()

    assert _timeline(sent, ActivityKind.EMAIL_OPENED) == 1
    assert TrackingEvent.objects.get().logged_at is not None


def test_a_hit_on_a_message_deleted_since_is_dropped(sent):
    from leadloop.nurture.mail.models import MarketingMessage

    with time_machine.travel(LATER, tick=False):
        _open(sent)
    MarketingMessage.objects.filter(pk=sent.pk).delete()

    assert mail.process_hits() == 1

    assert not TrackingHit.objects.exists()
    assert not TrackingEvent.objects.exists()


def test_erasing_the_person_deletes_their_hits_not_judged_yet(sent, lead):
    with time_machine.travel(LATER, tick=False):
        _open(sent)
        _click(sent, 0)

    privacy.erase_for([lead.pk], timezone.now())

    assert not TrackingHit.objects.exists()
