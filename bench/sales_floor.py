"""Bench helper, run inside Django on a sales bench database: a sales floor of 200 reps.

    python bench/sales_floor.py floor [--reps 200] [--open-share 0.3]   (idempotent)
    python bench/sales_floor.py actors                                 (keys, sessions, ids)

`floor` turns the demo's two teams of four reps into a floor of `--reps` reps: ten more teams,
each with a manager and half of them putting a lead whose first contact is overdue back in the
pool, and reps created through `accounts.services.create_user`. Every owned lead (open or
closed) goes to rep `id % reps` with set-based UPDATEs through a small mapping table, a team's
pool to that rep's team, and tasks and clocks follow their lead. The demo keeps about 15% of
its leads with a rep; nurturing leads are handed to sales until `--open-share` of all leads are
open and owned (assigned, contacted, quoted: about 1,500 a rep at a million leads), each with
what the services would have written: a first-contact clock (settled for a contacted or quoted
lead, running or breached for an assigned one, in business time), a next step on eleven in
twelve, a current quote on a quoted lead. Prints a JSON summary of the floor.

`actors` prints API keys and session cookies of some reps, managers and the admin.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import sys
import time
from decimal import Decimal
from typing import Any

import django

BENCH_TEAMS = 10
MARKER = "Bench team 00"
CHUNK = 5000


def db_dt(value: dt.datetime | None) -> Any:
    """An aware datetime as the ORM stores it (SQLite: naive UTC text)."""
    from django.db import connection

    if value is None or connection.vendor != "sqlite":
        return value
    return str(value.astimezone(dt.UTC).replace(tzinfo=None))


def _make_users(reps_wanted: int) -> list[Any]:
    from leadloop.accounts import services as accounts
    from leadloop.accounts.actors import SYSTEM
    from leadloop.accounts.models import Role, User
    from leadloop.sales.models import BreachAction
    from leadloop.sales.services import rules

    existing = User.objects.filter(role=Role.SALES_REP, is_active=True).count()
    teams = []
    for t in range(BENCH_TEAMS):
        team = accounts.get_or_create_team(name=f"Bench team {t:02d}")
        manager = accounts.create_user(
            username=f"bench.manager.{t:02d}", role=Role.SALES_MANAGER, team=team,
            first_name="Manager", last_name=f"{t:02d}", email=f"bench.manager.{t:02d}@example.com",
        )  # fmt: skip
        accounts.get_or_create_team(name=team.name, manager=manager)
        action = BreachAction.POOL if t % 2 == 0 else BreachAction.ALERT
        rules.set_team_rules(team, {"on_breach": action}, by=SYSTEM)
        teams.append(team)
    for i in range(reps_wanted - existing):
        accounts.create_user(
            username=f"bench.rep.{i:03d}", role=Role.SALES_REP, team=teams[i % BENCH_TEAMS],
            first_name="Rep", last_name=f"{i:03d}", email=f"bench.rep.{i:03d}@example.com",
        )  # fmt: skip
    rules.forget()
    return list(User.objects.filter(role=Role.SALES_REP, is_active=True).order_by("pk"))


def _spread(reps: list[Any]) -> dict[str, float]:
    """Owned leads to rep `id % len(reps)`, pools to that rep's team, tasks and clocks along."""
    from django.db import connection, transaction

    n = len(reps)
    took: dict[str, float] = {}
    slot = f"(SELECT m.{{}} FROM bench_rep_map m WHERE m.slot = leads_lead.id % {n})"
    of_lead = "(SELECT l.{} FROM leads_lead l WHERE l.id = sales_firstcontactclock.lead_id)"
    statements = {
        "leads_owned": f"""UPDATE leads_lead SET assigned_to_id = {slot.format("user_id")},
            team_id = {slot.format("team_id")} WHERE assigned_to_id IS NOT NULL""",
        "leads_pool": f"""UPDATE leads_lead SET team_id = {slot.format("team_id")}
            WHERE assigned_to_id IS NULL AND team_id IS NOT NULL""",
        "tasks": """UPDATE sales_task SET owner_id = (
            SELECT l.assigned_to_id FROM leads_lead l WHERE l.id = sales_task.lead_id)
            WHERE lead_id IN (SELECT id FROM leads_lead WHERE assigned_to_id IS NOT NULL)""",
        "clocks": f"""UPDATE sales_firstcontactclock SET team_id = {of_lead.format("team_id")},
            owner_id = COALESCE({of_lead.format("assigned_to_id")}, owner_id)
            WHERE lead_id IN (SELECT id FROM leads_lead WHERE team_id IS NOT NULL)""",
    }  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_rep_map")
        cursor.execute(
            "CREATE TABLE bench_rep_map "
            "(slot integer PRIMARY KEY, user_id integer, team_id integer)"
        )
        cursor.executemany(
            "INSERT INTO bench_rep_map VALUES (%s, %s, %s)",
            [(i, rep.pk, rep.team_id) for i, rep in enumerate(reps)],
        )
        for name, sql in statements.items():
            began = time.perf_counter()
            cursor.execute(sql)
            took[name] = round(time.perf_counter() - began, 1)
    return took


def _hand_over(reps: list[Any], want: int, now: dt.datetime, seed: int = 14) -> int:
    """Give nurturing leads to sales until `want` leads are open and owned."""
    from django.db import connection, transaction

    from leadloop.leads.models import Lead, LeadStatus
    from leadloop.leads.services.bulk import RawTable
    from leadloop.sales.models import FirstContactClock, Quote, Task
    from leadloop.sales.services.quotes import STAGE_PROBABILITY
    from leadloop.sales.services.rules import calendar_of, rules_of, target_for

    owned = Lead.objects.filter(
        status__in=["assigned", "contacted", "quoted"], assigned_to__isnull=False
    ).count()
    need = want - owned
    if need <= 0:
        return 0
    nurturing = Lead.objects.filter(status=LeadStatus.NURTURING, merged_into__isnull=True)
    ids = list(nurturing.values_list("pk", flat=True))
    rng = random.Random(seed)
    rng.shuffle(ids)
    ids = sorted(ids[:need])
    rep_of = dict(enumerate(reps))
    tables = {
        "clocks": RawTable(FirstContactClock, with_pk=True),
        "tasks": RawTable(Task, with_pk=False),
        "quotes": RawTable(Quote, with_pk=False),
    }
    sql = (
        "UPDATE leads_lead SET status = %s, assigned_to_id = %s, team_id = %s, "
        "status_changed_at = %s, updated_at = %s, last_contacted_at = %s, "
        "first_contact_due_at = %s, next_follow_up_at = %s, potential_revenue = %s, "
        "probability = %s, currency = %s WHERE id = %s"
    )
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        leads = Lead.objects.filter(pk__in=chunk).only("pk", "source_id", "fit_grade")
        updates, rows = [], {"clocks": [], "tasks": [], "quotes": []}
        for lead in leads:
            rep = rep_of[lead.pk % len(reps)]
            rules = rules_of(rep.team_id)
            calendar = calendar_of(rules)
            pick = rng.random()
            status = "assigned" if pick < 0.21 else "contacted" if pick < 0.64 else "quoted"
            minutes = target_for(lead, rules)
            if status == "assigned":
                started = now - dt.timedelta(hours=rng.uniform(0, 60))
            else:
                started = now - dt.timedelta(days=rng.uniform(2, 60))
            due = calendar.add(started, dt.timedelta(minutes=minutes))
            remind = calendar.add(started, dt.timedelta(minutes=minutes * 75 // 100))
            clock: dict[str, Any] = {
                "lead_id": lead.pk, "team_id": rep.team_id, "owner_id": rep.pk,
                "target_minutes": minutes, "started_at": started, "due_at": due,
                "remind_at": remind,
            }  # fmt: skip
            contacted = None
            if status == "assigned":
                clock["state"] = "running"
                clock["reminded_at"] = remind if remind <= now else None
                clock["breached_at"] = due if due <= now else None
                clock["next_check_at"] = remind if remind > now else due if due > now else None
                changed = started
            else:
                late = rng.random() < 0.15
                contacted = due + dt.timedelta(hours=3) if late else started + (due - started) / 3
                clock.update(state="late" if late else "met", ended_at=contacted, ended_by="Rep")
                clock["reminded_at"] = remind if late else None
                clock["breached_at"] = due if late else None
                changed = contacted + dt.timedelta(hours=rng.uniform(1, 24 * 10))
                changed = min(changed, now)
            rows["clocks"].append(tables["clocks"].row(clock))
            follow = None
            if rng.random() >= 1 / 12:
                follow = now + dt.timedelta(hours=rng.uniform(-72, 240))
                follow = follow.replace(minute=rng.choice((0, 15, 30, 45)), second=0, microsecond=0)
                kind = {"assigned": "call", "contacted": "meeting", "quoted": "call"}[status]
                rows["tasks"].append(
                    tables["tasks"].row(
                        {"lead_id": lead.pk, "owner_id": rep.pk, "kind": kind, "title": "Next step",
                         "due_at": follow, "duration_minutes": 15,
                         "repeat_days": 3 if status == "quoted" else None,
                         "created_by": "Rep", "created_at": min(changed, now), "history": "[]"}
                    )
                )  # fmt: skip
            revenue, probability, currency = None, None, "EUR"
            if status == "quoted":
                revenue = Decimal(round(rng.lognormvariate(9, 0.8), 2)).quantize(Decimal("0.01"))
                probability = STAGE_PROBABILITY[LeadStatus.QUOTED]
                currency = rng.choices(("EUR", "USD", "GBP"), weights=(90, 6, 4))[0]
                rows["quotes"].append(
                    tables["quotes"].row(
                        {"lead_id": lead.pk, "title": "Offer", "amount": revenue,
                         "currency": currency, "probability": probability, "state": "sent",
                         "expected_close_on": (now + dt.timedelta(days=rng.randint(5, 100))).date(),
                         "is_current": True, "sent_at": changed, "created_by": "Rep",
                         "created_at": changed, "updated_at": changed}
                    )
                )  # fmt: skip
            updates.append(
                (status, rep.pk, rep.team_id, db_dt(changed), db_dt(changed), db_dt(contacted),
                 db_dt(due), db_dt(follow), None if revenue is None else str(revenue),
                 probability, currency, lead.pk)
            )  # fmt: skip
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.executemany(sql, updates)
            for name, table in tables.items():
                if rows[name]:
                    table.insert(rows[name])
    return len(ids)


def _analyze() -> None:
    """Statistics for the planner; on PostgreSQL also VACUUM, which sets the visibility map
    that index-only scans need. Production's autovacuum does that on its own; this machine's
    PostgreSQL runs with `autovacuum = off`, and without it every covering index of the board
    read the table instead (docs/benchmarks.md)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if connection.vendor == "postgresql" else "ANALYZE")


def floor(reps_wanted: int, open_share: float) -> dict[str, Any]:
    from django.db.models import Count

    from leadloop.accounts.models import Role, Team, User
    from leadloop.leads.models import Lead
    from leadloop.sales.models import FirstContactClock, Task

    began = time.perf_counter()
    built = not Team.objects.filter(name=MARKER).exists()
    took: dict[str, Any] = {}
    if built:
        now = dt.datetime.now(dt.UTC)
        reps = _make_users(reps_wanted)
        took["spread_s"] = _spread(reps)
        t0 = time.perf_counter()
        total = Lead.objects.count()
        took["handed_over"] = _hand_over(reps, int(total * open_share), now)
        took["hand_over_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    from leadloop.sales.services import tally

    # The rows the floor's changes wrote to the pipeline totals, added up as the worker does
    # every minute.
    took["tally_rows_folded"] = tally.fold()
    took["fold_s"] = round(time.perf_counter() - t0, 1)
    t0 = time.perf_counter()
    _analyze()
    took["analyze_s"] = round(time.perf_counter() - t0, 1)
    owned_open = Lead.objects.filter(
        status__in=["assigned", "contacted", "quoted"], assigned_to__isnull=False
    )
    per_rep = sorted(
        row["n"] for row in owned_open.values("assigned_to").annotate(n=Count("id")).order_by()
    )
    clocks = dict(FirstContactClock.objects.values_list("state").annotate(n=Count("pk")).order_by())
    return {
        "built_now": built,
        "seconds": round(time.perf_counter() - began, 1),
        **took,
        "leads": Lead.objects.count(),
        "reps": User.objects.filter(role=Role.SALES_REP, is_active=True).count(),
        "managers": User.objects.filter(role=Role.SALES_MANAGER, is_active=True).count(),
        "teams": Team.objects.count(),
        "owned_open_leads": sum(per_rep),
        "owned_open_per_rep_min_median_max": [per_rep[0], per_rep[len(per_rep) // 2], per_rep[-1]]
        if per_rep
        else [],
        "open_leads_with_a_clock": FirstContactClock.objects.filter(
            lead__status__in=["sales_ready", "assigned", "contacted", "quoted"]
        ).count(),
        "clocks": clocks,
        "clocks_waiting_for_a_check": FirstContactClock.objects.filter(
            next_check_at__isnull=False
        ).count(),
        "open_tasks": Task.objects.filter(done_at__isnull=True, cancelled_at__isnull=True).count(),
    }


def actors() -> dict[str, Any]:
    """Keys and sessions of five reps, three managers and the admin, in different teams."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    from leadloop.accounts import services as accounts
    from leadloop.accounts.models import User

    def spread(prefix: str, count: int) -> list[str]:
        """`count` of the floor's users named `prefix…`, spread over them (a floor of any size)."""
        found = sorted(
            User.objects.filter(username__startswith=prefix).values_list("username", flat=True)
        )
        return [found[i * len(found) // count] for i in range(count)] if found else []

    names = {
        "rep": ["rep.noor", *spread("bench.rep.", 4)],
        "manager": ["manager.north", *spread("bench.manager.", 2)],
        "admin": ["admin"],
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for role, usernames in names.items():
        for username in usernames:
            user = User.objects.get(username=username)
            store = SessionStore()
            store[SESSION_KEY] = str(user.pk)
            store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
            store[HASH_SESSION_KEY] = user.get_session_auth_hash()
            store.create()
            key = accounts.issue_api_key(user, name="bench").raw
            out.setdefault(role, []).append(
                {"username": username, "id": user.pk, "key": key, "session": store.session_key}
            )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["floor", "actors"])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--open-share", type=float, default=0.3)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    result = floor(args.reps, args.open_share) if args.what == "floor" else actors()
    json.dump(result, sys.stdout, default=str)


if __name__ == "__main__":
    main()
