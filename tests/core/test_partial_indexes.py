"""Partial indexes that SQLite can actually use (core.expressions).

SQLite reads through a partial index only when the query repeats the index's condition with the
same constants; a bound `status IN (?, ?)` never matches `status IN ('a', 'b')`. `INDEXED BY`
makes SQLite refuse a statement ("no query solution") when the named index cannot serve it, so
each caller's real statements are run again with it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.apps import apps
from django.db import OperationalError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from leadloop.core.expressions import indexed, literal
from leadloop.distribution import selectors as distribution
from leadloop.distribution.services import partners
from leadloop.leads.models import OPEN_STATUSES, Lead
from leadloop.notifications import services as notifications
from leadloop.nurture.workflows.services import live as workflow_live
from leadloop.sales.selectors.my_day import get_my_day
from leadloop.sales.selectors.team import team_board
from leadloop.sales.services import clocks, contact
from leadloop.webhooks.services import sending

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's INDEXED BY"),
]

PARTIAL = [
    (model, index.name)
    for model in apps.get_models()
    for index in model._meta.indexes
    if index.condition is not None
]


def usable(sql: str, params: tuple, table: str, index: str) -> bool:
    """Whether SQLite can run `sql` reading `table` through `index` (any one occurrence)."""
    occurrences = [m.end() for m in re.finditer(rf'(?:FROM|UPDATE) "{table}"(?: [A-Z]\d+)?', sql)]
    for end in occurrences:
        forced = f'{sql[:end]} INDEXED BY "{index}"{sql[end:]}'
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(forced, params)
                transaction.set_rollback(True)
        except OperationalError as exc:
            if "no query solution" not in str(exc):
                raise
            continue
        return True
    return False


def statements_of(call: Callable[[], object], table: str) -> list[tuple[str, tuple]]:
    seen: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        if not many and f'"{table}"' in sql:
            seen.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call()
    assert seen, f"the call ran no statement on {table}"
    return seen


@pytest.mark.parametrize(("model", "name"), PARTIAL, ids=[name for _m, name in PARTIAL])
def test_every_partial_index_is_usable_through_its_own_condition(model, name):
    sql, params = model.objects.filter(indexed(model, name)).values("pk").query.sql_with_params()
    assert usable(sql, params, model._meta.db_table, name)


def test_a_bound_in_list_does_not_reach_the_index():
    """The failure these helpers exist for: the same condition with its values bound."""
    bound = Lead.objects.filter(
        assigned_to__isnull=False, merged_into__isnull=True, status__in=OPEN_STATUSES
    )
    sql, params = bound.values("pk").query.sql_with_params()
    assert params
    assert not usable(sql, params, "leads_lead", "lead_open_owner")
    sql, params = (
        Lead.objects.filter(assigned_to__isnull=False, merged_into__isnull=True)
        .filter(literal(Q(status__in=OPEN_STATUSES)))
        .values("pk")
        .query.sql_with_params()
    )
    assert usable(sql, params, "leads_lead", "lead_open_owner")


def test_only_plain_values_are_written_into_the_sql():
    hostile = Lead.objects.filter(literal(Q(status__in=["won", "x') OR ('1'='1"])))
    with pytest.raises(ValueError, match="Not a literal-safe value"):
        str(hostile.query)
    with pytest.raises(LookupError):
        indexed(Lead, "lead_email")  # not a partial index


def _next_call(rep):
    """An agent on a list with a due lead asks for the next one (the desk's claim)."""
    from leadloop.accounts.actors import SYSTEM
    from leadloop.accounts.models import Role
    from leadloop.nurture.calls import services as calls
    from tests.factories.accounts import make_user
    from tests.factories.leads import make_lead, make_source

    agent = make_user(Role.AGENT, username="index-agent")
    call_list = calls.create_call_list(
        by=SYSTEM, name="Index", script_en="Hi", members=[agent.pk],
        call_days=[0, 1, 2, 3, 4, 5, 6], opens_at="00:00", closes_at="23:59", holiday_country="",
    )  # fmt: skip
    lead = make_lead(make_source("Index source"), phone="+31612340002")
    calls.add_to_call_list(lead, call_list, by=SYSTEM)
    return calls.next_for(agent)


def _callers(rep, manager, team, settings):
    now = timezone.now()
    settings.LEADLOOP_SMTP = {**settings.LEADLOOP_SMTP, "host": "127.0.0.1"}
    return [
        ("my day: leads without a next step", lambda: get_my_day(rep, now=now), Lead,
         "lead_no_next_step"),
        ("manager's view: leads without a next step", lambda: team_board(manager, team, now=now),
         Lead, "lead_no_next_step"),
        ("manager's view: the team's open leads", lambda: team_board(manager, team, now=now),
         Lead, "lead_team_open"),
        ("manager's view: the list without a next step",
         lambda: team_board(manager, team, now=now), Lead, "lead_no_next_step_list"),
        ("manager's view: the overdue list", lambda: team_board(manager, team, now=now), Lead,
         "lead_overdue_list"),
        ("manager's view: late clocks still running", lambda: team_board(manager, team, now=now),
         apps.get_model("sales", "FirstContactClock"), "clock_late_running"),
        ("routing: the reps' open leads", lambda: distribution.open_counts([rep.pk]), Lead,
         "lead_open_owner"),
        ("routing: a team's members and their load",
         lambda: distribution.push_members(team, since=now, day=now.date()), Lead,
         "lead_open_owner"),
        ("the sweep's lost clocks", lambda: clocks.start_missing(now=now), Lead,
         "lead_clock_missing"),
        ("lead e-mails waiting", lambda: contact.send_waiting(now=now),
         apps.get_model("sales", "OutgoingEmail"), "outgoing_email_due"),
        ("notification mails waiting", lambda: notifications.send_pending(at=now),
         apps.get_model("notifications", "Notification"), "notification_mail_due"),
        ("webhook deliveries due", lambda: sending.send_due(at=now),
         apps.get_model("webhooks", "Delivery"), "webhook_delivery_due"),
        ("the call desk's next lead", lambda: _next_call(rep),
         apps.get_model("nurture", "CallEntry"), "call_entry_due"),
        ("partner offers past their time",
         lambda: partners.expire_offers(at=now + dt.timedelta(days=1)),
         apps.get_model("distribution", "PartnerOffer"), "offer_due"),
        ("workflow steps due", lambda: workflow_live.run_due(at=now),
         apps.get_model("nurture", "Enrollment"), "enrollment_due"),
    ]  # fmt: skip


CALLERS = [
    "my day: leads without a next step",
    "manager's view: leads without a next step",
    "manager's view: the team's open leads",
    "manager's view: the list without a next step",
    "manager's view: the overdue list",
    "manager's view: late clocks still running",
    "routing: the reps' open leads",
    "routing: a team's members and their load",
    "the sweep's lost clocks",
    "lead e-mails waiting",
    "notification mails waiting",
    "webhook deliveries due",
    "partner offers past their time",
    "the call desk's next lead",
    "workflow steps due",
]


@pytest.mark.parametrize("label", CALLERS)
def test_the_callers_statements_read_through_their_partial_index(
    label, rep, manager, team, settings
):
    found = {row[0]: row[1:] for row in _callers(rep, manager, team, settings)}
    call, model, index = found[label]
    table = model._meta.db_table
    statements = statements_of(call, table)
    assert any(usable(sql, params, table, index) for sql, params in statements), statements
