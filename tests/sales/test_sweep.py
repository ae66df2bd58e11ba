"""The sweep's two ways through a batch: the reminders and breaches of leads as their clocks
last saw them are written together (a breach's hand-over to the pool done just before); a clock
whose lead changed since it last looked is checked on its own. Both ways give the same history
and the same notifications, and a failing bulk write falls back to one by one."""

import datetime as dt
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
import time_machine

from leadloop.leads import services as lead_services
from leadloop.notifications.models import Notification
from leadloop.sales.models import BreachAction, ClockState, FirstContactClock, SlaEvent
from leadloop.sales.services import clocks, contact, rules, sweep
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db
AMS = ZoneInfo("Europe/Amsterdam")
ASSIGNED = dt.datetime(2026, 11, 3, 10, 0, tzinfo=AMS)
REMIND = dt.datetime(2026, 11, 3, 16, 46, tzinfo=AMS)
BREACH = dt.datetime(2026, 11, 4, 10, 1, tzinfo=AMS)


@pytest.fixture(autouse=True)
def _fresh_rules():
    rules.forget()
    yield
    rules.forget()


def _assigned(source, rep, n):
    with time_machine.travel(ASSIGNED, tick=False):
        leads = [make_lead(source, assigned_to=rep) for _ in range(n)]
        clocks.follow([lead.pk for lead in leads])
    return leads


def _told():
    return Counter(Notification.objects.values_list("lead_id", "user__username", "kind"))


def _history(lead):
    return list(
        SlaEvent.objects.filter(lead=lead).order_by("at", "id").values_list("kind", flat=True)
    )


def test_a_batch_tells_in_bulk_and_checks_a_changed_lead_on_its_own(
    source, rep, teammate, manager, monkeypatch
):
    sizes = []
    real = sweep.notify_each

    def counted(messages):
        messages = list(messages)
        sizes.append(len(messages))
        return real(messages)

    monkeypatch.setattr(sweep, "notify_each", counted)
    plain, also_plain, called, handed_on = _assigned(source, rep, 4)
    with time_machine.travel(ASSIGNED + dt.timedelta(hours=1), tick=False):
        # Neither change reaches the clock (its follow-up task never runs here): the sweep must
        # see them itself.
        contact.log_call(called, by=rep, outcome="reached")
        lead_services.assign_lead(handed_on, by=manager, to=teammate)

    with time_machine.travel(REMIND, tick=False):
        assert sweep.check() == {"started": 0, "reminded": 3, "breached": 0}

    # The two plain reminders in one write, the reassigned lead's on its own.
    assert sorted(sizes) == [1, 2]
    assert _told() == Counter(
        {
            (plain.pk, "rep", "sla_reminder"): 1,
            (also_plain.pk, "rep", "sla_reminder"): 1,
            (handed_on.pk, "teammate", "sla_reminder"): 1,
        }
    )
    assert _history(plain) == _history(also_plain) == ["started", "reminded"]
    assert _history(called) == ["started", "met"]
    assert FirstContactClock.objects.get(pk=called.pk).state == ClockState.MET
    assert FirstContactClock.objects.get(pk=handed_on.pk).owner_id == teammate.pk
    reminder = SlaEvent.objects.get(lead=plain, kind="reminded")
    assert reminder.data == {"to": rep.display_name}
    # Reminded once: the clocks wait for their deadline now.
    assert set(FirstContactClock.objects.values_list("next_check_at", flat=True)) == {
        FirstContactClock.objects.get(pk=plain.pk).due_at,
        None,
    }


@pytest.mark.parametrize("on_breach", [BreachAction.ALERT, BreachAction.POOL])
def test_a_breach_alerts_the_manager_once_either_way(source, rep, manager, team, on_breach):
    rules.set_team_rules(team, {"on_breach": on_breach}, by=manager)
    rules.forget()
    leads = _assigned(source, rep, 3)
    with time_machine.travel(REMIND, tick=False):
        sweep.check()
    with time_machine.travel(BREACH, tick=False):
        assert sweep.check() == {"started": 0, "reminded": 0, "breached": 3}
        assert sweep.check() == {"started": 0, "reminded": 0, "breached": 0}

    kinds = Counter(kind for _lead, _user, kind in _told().elements())
    assert kinds == {"sla_reminder": 3, "sla_breached": 3}
    assert {user for _lead, user, kind in _told() if kind == "sla_breached"} == {"manager"}
    handed_back = ["returned"] if on_breach == BreachAction.POOL else []
    for lead in leads:
        assert _history(lead) == ["started", "reminded", "breached", *handed_back]
        lead.refresh_from_db()
        assert lead.assigned_to_id == (None if on_breach == BreachAction.POOL else rep.pk)


def test_a_failing_bulk_write_is_done_one_by_one(source, rep, monkeypatch):
    leads = _assigned(source, rep, 3)
    real = sweep.notify_each

    def refuse_many(messages):
        messages = list(messages)
        if len(messages) > 1:
            raise RuntimeError("the bulk write fails")
        return real(messages)

    monkeypatch.setattr(sweep, "notify_each", refuse_many)
    with time_machine.travel(REMIND, tick=False):
        assert sweep.check()["reminded"] == 3

    assert sum(_told().values()) == 3
    for lead in leads:
        # The failed bulk write was rolled back: one reminder each, not two.
        assert _history(lead) == ["started", "reminded"]


def test_a_failing_hand_over_leaves_its_clock_due_and_the_others_handled(
    source, rep, manager, team, monkeypatch
):
    rules.set_team_rules(team, {"on_breach": BreachAction.POOL}, by=manager)
    rules.forget()
    stuck, *others = _assigned(source, rep, 3)
    with time_machine.travel(REMIND, tick=False):
        sweep.check()
    real = sweep.lead_services.assign_lead

    def refuse_one(lead, **kwargs):
        if lead.pk == stuck.pk:
            raise RuntimeError("the pool refuses this lead")
        return real(lead, **kwargs)

    monkeypatch.setattr(sweep.lead_services, "assign_lead", refuse_one)
    with time_machine.travel(BREACH, tick=False):
        assert sweep.check()["breached"] == 2
    assert _history(stuck) == ["started", "reminded"]
    for lead in others:
        assert _history(lead) == ["started", "reminded", "breached", "returned"]

    monkeypatch.setattr(sweep.lead_services, "assign_lead", real)
    with time_machine.travel(BREACH + dt.timedelta(minutes=1), tick=False):
        assert sweep.check()["breached"] == 1
    assert _history(stuck) == ["started", "reminded", "breached", "returned"]
    assert sum(1 for _l, _u, kind in _told() if kind == "sla_breached") == 3
