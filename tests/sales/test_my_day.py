"""My day: overdue tasks first, then today's (in the viewer's time zone), then new leads, each by
priority; leads without a next step beside them; only what the viewer still sees."""

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadloop.accounts import defaults
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.leads import services as lead_services
from leadloop.sales.selectors import my_day as day
from leadloop.sales.services import clocks, contact, rules, steps
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
# Tuesday 3 November 2026, 10:00 in Amsterdam.
NOW = dt.datetime(2026, 11, 3, 10, 0, tzinfo=AMS)


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


@pytest.fixture
def at_now():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def _task(lead, owner, due, kind="call", title=""):
    return steps.add_task(lead, by=SYSTEM, kind=kind, due_at=due, owner=owner, title=title)


def _names(part):
    return [item.lead.first_name for item in part.items]


def test_overdue_comes_first_then_today_then_new_leads_each_by_priority(source, rep, at_now):
    grades = {"Ada": "A", "Bo": "B", "Cas": "C", "Dirk": "D"}
    leads = {
        name: make_lead(source, assigned_to=rep, first_name=name, fit_grade=grade)
        for name, grade in grades.items()
    }
    new = {
        name: make_lead(source, assigned_to=rep, first_name=name, fit_grade=grade)
        for name, grade in (("Nel", "C"), ("Noa", "A"))
    }
    _task(leads["Cas"], rep, ams(2026, 11, 3, 9, 0))
    _task(leads["Ada"], rep, ams(2026, 11, 2, 16, 0))
    _task(leads["Dirk"], rep, ams(2026, 11, 3, 11, 0))
    _task(leads["Bo"], rep, ams(2026, 11, 3, 17, 30))
    _task(leads["Bo"], rep, ams(2026, 11, 4, 9, 0))  # tomorrow: not on today's list

    found = day.get_my_day(rep, now=NOW)

    assert leads["Ada"].priority > leads["Bo"].priority > leads["Cas"].priority
    assert leads["Cas"].priority > leads["Dirk"].priority
    assert new["Noa"].priority > new["Nel"].priority
    assert _names(found.overdue) == ["Ada", "Cas"]
    assert _names(found.today) == ["Bo", "Dirk"]
    assert _names(found.new) == ["Noa", "Nel"]
    assert [found.overdue.total, found.today.total, found.new.total] == [2, 2, 2]


def test_the_page_shows_the_parts_in_that_order(source, rep, logged_in_client, at_now):
    late = make_lead(source, assigned_to=rep, first_name="Late")
    later = make_lead(source, assigned_to=rep, first_name="Later")
    make_lead(source, assigned_to=rep, first_name="Fresh")
    _task(late, rep, ams(2026, 11, 3, 8, 0))
    _task(later, rep, ams(2026, 11, 3, 15, 0))

    page = logged_in_client(rep).get("/sales/my-day/")

    html = page.content.decode()
    assert page.status_code == 200
    positions = [html.index(f">{name} ") for name in ("Late", "Later", "Fresh")]
    assert positions == sorted(positions)
    assert html.index('id="overdue"') < html.index('id="today"') < html.index('id="new"')


def test_a_rep_never_sees_another_reps_tasks(source, rep, teammate, other_rep, at_now):
    mine = make_lead(source, assigned_to=rep, first_name="Mine")
    theirs = make_lead(source, assigned_to=teammate, first_name="Theirs")
    far = make_lead(source, assigned_to=other_rep, first_name="Far")
    _task(mine, rep, ams(2026, 11, 3, 9, 0))
    _task(theirs, teammate, ams(2026, 11, 3, 9, 0))
    _task(far, other_rep, ams(2026, 11, 3, 12, 0))

    found = day.get_my_day(rep, now=NOW)
    tasks, _last = day.list_open_tasks(rep, now=NOW)

    assert _names(found.overdue) == ["Mine"]
    assert found.today.items == []
    assert found.new.items == []
    assert [t.lead.first_name for t in tasks] == ["Mine"]


def test_a_task_on_a_lead_reassigned_away_disappears(source, rep, teammate, at_now):
    lead = make_lead(source, assigned_to=rep, first_name="Moved")
    task = _task(lead, rep, ams(2026, 11, 3, 9, 0))
    assert _names(day.get_my_day(rep, now=NOW).overdue) == ["Moved"]

    lead_services.assign_lead(lead, by=SYSTEM, to=teammate)

    found = day.get_my_day(rep, now=NOW)
    assert found.overdue.items == []
    assert day.list_open_tasks(rep, now=NOW)[0] == []
    task.refresh_from_db()
    assert (task.owner_id, task.is_open) == (rep.pk, True)


@pytest.mark.parametrize(
    ("moment", "overdue", "today"),
    [
        # 23:30 on Tuesday: the 23:45 call is today, the 00:15 one (still Tuesday in UTC) is not.
        (ams(2026, 11, 3, 23, 30), [], ["Evening"]),
        # Five past midnight: the evening call is overdue and the night call is today's.
        (ams(2026, 11, 4, 0, 5), ["Evening"], ["Night"]),
    ],
)
def test_today_is_the_day_in_the_viewers_time_zone_around_midnight(
    source, rep, moment, overdue, today
):
    with time_machine.travel(ams(2026, 11, 3, 12, 0), tick=False):
        evening = make_lead(source, assigned_to=rep, first_name="Evening")
        night = make_lead(source, assigned_to=rep, first_name="Night")
        _task(evening, rep, ams(2026, 11, 3, 23, 45))
        _task(night, rep, ams(2026, 11, 4, 0, 15))

    found = day.get_my_day(rep, now=moment)

    assert (_names(found.overdue), _names(found.today)) == (overdue, today)
    assert found.day_ends == ams(*moment.timetuple()[:3]) + dt.timedelta(days=1)


def test_today_of_a_rep_elsewhere_ends_at_their_midnight(source, rep):
    rep.time_zone = "America/New_York"
    rep.save(update_fields=["time_zone"])
    with time_machine.travel(ams(2026, 11, 3, 12, 0), tick=False):
        lead = make_lead(source, assigned_to=rep, first_name="Nyc")
        # 02:00 on Wednesday in Amsterdam is still Tuesday 20:00 in New York.
        _task(lead, rep, ams(2026, 11, 4, 2, 0))

    found = day.get_my_day(rep, now=ams(2026, 11, 3, 23, 0))

    assert _names(found.today) == ["Nyc"]
    assert found.zone.key == "America/New_York"


def test_the_day_the_clocks_go_back_has_25_hours(rep):
    starts, ends = day.day_bounds(ams(2026, 10, 25, 12, 0), AMS)

    assert ends - starts == dt.timedelta(hours=25)


def test_leads_being_worked_without_a_next_step_are_listed_once(source, rep, at_now):
    worked = make_lead(source, assigned_to=rep, first_name="Worked")
    contact.log_call(worked, by=rep, outcome=contact.CallOutcome.REACHED)
    planned = make_lead(source, assigned_to=rep, first_name="Planned")
    contact.log_call(planned, by=rep, outcome=contact.CallOutcome.REACHED)
    _task(planned, rep, ams(2026, 11, 5, 10, 0))
    make_lead(source, assigned_to=rep, first_name="Untouched")

    found = day.get_my_day(rep, now=NOW)

    assert _names(found.no_next_step) == ["Worked"]
    assert _names(found.new) == ["Untouched"]
    assert [item.has_no_next_step for item in found.no_next_step.items] == [True]


def test_a_new_lead_with_a_call_due_today_is_listed_with_its_task_only(source, rep, at_now):
    lead = make_lead(source, assigned_to=rep, first_name="Once")
    _task(lead, rep, ams(2026, 11, 3, 14, 0))

    found = day.get_my_day(rep, now=NOW)

    assert (_names(found.today), found.new.items) == (["Once"], [])


def test_each_list_is_capped_and_counts_the_rest(
    source, rep, monkeypatch, logged_in_client, at_now
):
    monkeypatch.setattr(day, "DAY_LIST", 2)
    monkeypatch.setattr(day, "DAY_COUNT_CAP", 4)
    for n in range(3):
        make_lead(source, assigned_to=rep, first_name=f"New{n}")
    for n in range(5):
        _task(make_lead(source, assigned_to=rep), rep, ams(2026, 11, 3, 8, n))

    found = day.get_my_day(rep, now=NOW)

    assert (len(found.new.items), found.new.total, found.new.total_is_capped) == (2, 3, False)
    assert found.new.rest == 1
    assert (len(found.overdue.items), found.overdue.total) == (2, 4)
    assert found.overdue.total_is_capped is True
    html = logged_in_client(rep).get("/sales/my-day/").content.decode()
    assert "And 1 more." in html
    assert "And 2+ more." in html


def test_each_lead_shows_its_first_contact_time_left(source, rep, logged_in_client, at_now):
    lead = make_lead(source, assigned_to=rep, first_name="Clocked")
    clocks.follow([lead.pk])

    page = logged_in_client(rep).get("/sales/my-day/")
    answer = logged_in_client(rep).get("/api/v1/sales/my-day")

    # Assigned Tuesday 10:00, due Wednesday 10:00: a whole business day (9 hours) left.
    assert "First contact: 9 h 0 min left (business time)" in page.content.decode()
    item = answer.json()["new"]["items"][0]
    assert item["lead"]["first_contact_left_minutes"] == 9 * 60
    assert item["lead"]["first_contact_due_at"].startswith("2026-11-04T09:00:00")


def test_an_overdue_first_contact_says_by_how_much(source, rep, logged_in_client):
    with time_machine.travel(NOW, tick=False):
        lead = make_lead(source, assigned_to=rep, first_name="Waiting")
        clocks.follow([lead.pk])

    with time_machine.travel(ams(2026, 11, 4, 11, 30), tick=False):
        html = logged_in_client(rep).get("/sales/my-day/").content.decode()

    assert "First contact overdue by 1 h 30 min (business time)" in html


@pytest.mark.parametrize("role", [Role.PARTNER, Role.MARKETING])
def test_roles_that_do_not_follow_up_leads_get_no_day(
    request, role, logged_in_client, api_client_for
):
    user = (
        request.getfixturevalue("partner_user")
        if role == Role.PARTNER
        else make_user(role, username="m")
    )

    page = logged_in_client(user).get("/sales/my-day/")
    api = api_client_for(user).get("/api/v1/sales/my-day")
    tasks = api_client_for(user).get("/api/v1/sales/tasks")

    assert (page.status_code, api.status_code, tasks.status_code) == (403, 403, 403)


def test_the_api_answers_the_same_day(source, rep, api_client_for, at_now):
    lead = make_lead(source, assigned_to=rep, first_name="Api", phone="0612345678")
    task = _task(lead, rep, ams(2026, 11, 3, 9, 0), title="Ring back")

    body = api_client_for(rep).get("/api/v1/sales/my-day").json()

    assert body["time_zone"] == "Europe/Amsterdam"
    assert body["overdue"]["total"] == 1
    item = body["overdue"]["items"][0]
    assert item["task"]["id"] == task.pk
    assert item["task"]["title"] == "Ring back"
    assert (item["lead"]["name"], item["lead"]["phone"]) == (
        "Api " + lead.last_name,
        "+31612345678",
    )
    assert [body["today"]["items"], body["new"]["items"]] == [[], []]


def test_a_manager_lists_a_teams_tasks_and_a_rep_may_not(
    source, rep, teammate, manager, other_rep, team, other_team, api_client_for, at_now
):
    _task(make_lead(source, assigned_to=rep, first_name="R1"), rep, ams(2026, 11, 3, 9, 0))
    _task(make_lead(source, assigned_to=teammate, first_name="T1"), teammate, ams(2026, 11, 4, 9))
    _task(make_lead(source, assigned_to=other_rep), other_rep, ams(2026, 11, 3, 9, 0))

    everything = api_client_for(manager).get(f"/api/v1/sales/tasks?team={team.pk}")
    late = api_client_for(manager).get(f"/api/v1/sales/tasks?team={team.pk}&overdue=true")
    elsewhere = api_client_for(manager).get(f"/api/v1/sales/tasks?team={other_team.pk}")
    by_rep = api_client_for(rep).get(f"/api/v1/sales/tasks?team={team.pk}")

    assert [t["lead_name"].split()[0] for t in everything.json()["items"]] == ["R1", "T1"]
    assert [t["is_overdue"] for t in everything.json()["items"]] == [True, False]
    assert [t["lead_name"].split()[0] for t in late.json()["items"]] == ["R1"]
    assert (elsewhere.status_code, by_rep.status_code) == (404, 403)


def test_the_task_list_pages_on_with_a_cursor(source, rep, api_client_for, at_now):
    lead = make_lead(source, assigned_to=rep)
    due = [ams(2026, 11, 3, 9, 0), ams(2026, 11, 3, 9, 0), ams(2026, 11, 5, 9, 0)]
    made = [_task(lead, rep, at).pk for at in due]
    client = api_client_for(rep)

    first = client.get("/api/v1/sales/tasks?limit=2").json()
    second = client.get(f"/api/v1/sales/tasks?limit=2&cursor={first['next_cursor']}").json()
    broken = client.get("/api/v1/sales/tasks?cursor=nonsense")

    assert [t["id"] for t in first["items"] + second["items"]] == made
    assert second["next_cursor"] is None
    assert broken.status_code == 422


def test_the_page_makes_as_many_queries_for_ten_rows_as_for_two(
    source, rep, logged_in_client, monkeypatch, at_now
):
    # Cached settings reload after a few seconds, which a loaded test machine can take between
    # two requests: here they live for the whole test.
    monkeypatch.setattr(defaults, "TTL", 3600.0)
    monkeypatch.setattr(rules, "TTL", 3600.0)
    client = logged_in_client(rep)

    def add(n):
        for _ in range(n):
            lead = make_lead(source, assigned_to=rep)
            clocks.follow([lead.pk])
            _task(lead, rep, ams(2026, 11, 3, 8, 0))
            make_lead(source, assigned_to=rep)

    def count():
        client.get("/sales/my-day/")
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/sales/my-day/").status_code == 200
        return len(queries)

    add(2)
    few = count()
    add(8)

    assert count() == few


def test_hostile_lead_names_are_escaped(source, rep, logged_in_client, at_now):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    lead = make_lead(source, assigned_to=rep, first_name=hostile, company_name=hostile)
    _task(lead, rep, ams(2026, 11, 3, 9, 0), title=hostile)

    html = logged_in_client(rep).get("/sales/my-day/").content.decode()

    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert len(re.findall(r"&lt;script&gt;alert\(&quot;x&quot;\)", html)) == 3


def test_a_long_list_draws_its_first_rows_and_shows_the_rest_on_asking(
    source, rep, monkeypatch, logged_in_client, at_now
):
    from leadloop.sales.views import my_day as page

    monkeypatch.setattr(page, "FIRST_ROWS", 2)
    tasks = [
        _task(make_lead(source, assigned_to=rep), rep, ams(2026, 11, 3, 8, n)) for n in range(3)
    ]
    client = logged_in_client(rep)

    html = client.get("/sales/my-day/").content.decode()
    assert html.count('id="task-') == 2
    assert "Show 1 more" in html
    assert 'hx-get="?section=overdue"' in html

    # HTMX asks for the section alone, with every row it read.
    part = client.get("/sales/my-day/?section=overdue", headers={"HX-Request": "true"})
    body = part.content.decode()
    assert body.lstrip().startswith('<section class="day-section" id="overdue"')
    assert all(f'id="task-{task.pk}"' in body for task in tasks)
    assert "Show 1 more" not in body
    # Without JavaScript the link draws the whole page with that list whole; a name that is
    # not a section draws the page as usual.
    assert client.get("/sales/my-day/?section=overdue").content.decode().count('id="task-') == 3
    odd = client.get("/sales/my-day/?section=<script>", headers={"HX-Request": "true"})
    assert odd.status_code == 200
    assert odd.content.decode().count('id="task-') == 2
