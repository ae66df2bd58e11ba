"""The parts of bench/whole_loop.py: the load (intake, reps, analytics, the import), the probes
(task queues, database load, CPU per process group) and the figures they add up to."""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import http.client
import itertools
import json
import os
import random
import sqlite3
import threading
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import psycopg
import redis

from run_all import percentile

# --- the load --------------------------------------------------------------------------------

FIRSTS = ("Anna", "Bram", "Carla", "Daan", "Eva", "Finn", "Gijs", "Hanna", "Iris", "Jan", "Kees",
          "Lotte", "Maarten", "Noa", "Olaf", "Petra", "Roos", "Sem", "Tessa", "Wouter")  # fmt: skip
LASTS = ("Jansen", "de Vries", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder",
         "de Groot", "Bos", "Vos", "Peters", "Hendriks", "Dekker", "Brouwer")  # fmt: skip
# Postal code ranges that the demo's routing rules send to Sales North, South and the partner.
CITIES = ((1011, "Amsterdam"), (3011, "Rotterdam"), (2511, "Den Haag"), (3511, "Utrecht"),
          (5611, "Eindhoven"), (9711, "Groningen"), (6211, "Maastricht"),
          (8011, "Zwolle"))  # fmt: skip
COMPANY = ("Bouw", "Zorg", "Installatietechniek", "Advies", "Logistiek")


def person(rng: random.Random) -> dict[str, str]:
    first, last = rng.choice(FIRSTS), rng.choice(LASTS)
    code, city = rng.choice(CITIES)
    postal = f"{code + rng.randrange(80)} {rng.choice('ABCDEGH')}{rng.choice('JKLNPRS')}"
    company = f"{last} {rng.choice(COMPANY)} B.V." if rng.random() < 0.6 else ""
    return {"first_name": first, "last_name": last, "phone": f"06{rng.randrange(10**8):08d}",
            "postal_code": postal, "city": city, "company_name": company}  # fmt: skip


def lead_body(n: int) -> bytes:
    """A distinct, plausible lead for the n-th post (the same n, the same lead)."""
    rng = random.Random(n)
    lead = person(rng)
    lead["email"] = f"{lead['first_name'].lower()}.{n}@{lead['last_name'][-4:].lower()}{n % 997}.nl"
    lead["country"] = "NL"
    if rng.random() < 0.3:
        lead["comments"] = rng.choice(("Graag een offerte", "Budget ca. 20k", "Zonnepanelen"))
    if rng.random() < 0.35:  # the demo's readiness rule asks two of BANT: these are routed
        lead.update(bant_budget="met", bant_need="met", bant_timeframe=rng.choice(("met", "")))
    return json.dumps({k: v for k, v in lead.items() if v}).encode()


def write_csv(path: Path, rows: int) -> None:
    """A Dutch-headed CSV of `rows` distinct people (a trade-fair list, say)."""
    lines = ["Voornaam,Achternaam,E-mailadres,Telefoon,Bedrijf,Postcode,Plaats,Land"]
    for n in range(rows):
        p = person(random.Random(-1 - n))
        email = f"{p['first_name'].lower()}.import{n}@beurs{n % 499}.nl"
        lines.append(f"{p['first_name']},{p['last_name']},{email},{p['phone']},"
                     f"{p['company_name']},{p['postal_code']},{p['city']},NL")  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


class Parts:
    """Every request's part, status (0: no answer) and milliseconds, from every thread."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ms: dict[str, list[float]] = defaultdict(list)
        self.status: dict[str, Counter[int]] = defaultdict(Counter)

    def add(self, part: str, status: int, ms: float) -> None:
        with self.lock:
            self.ms[part].append(ms)
            self.status[part][status] += 1

    def summary(self, seconds: float) -> dict[str, dict[str, Any]]:
        out = {}
        for part in sorted(self.ms):
            ms, statuses = self.ms[part], self.status[part]
            errors = {str(s): n for s, n in statuses.items() if not 200 <= s < 300}
            out[part] = {"requests": len(ms), "per_s": round(len(ms) / seconds, 2),
                         "p50_ms": round(percentile(ms, 50), 1),
                         "p99_ms": round(percentile(ms, 99), 1), "errors": errors}  # fmt: skip
        return out


class Http:
    """One kept-alive connection. A request on a connection the server had closed is sent once
    more (the intake's posts carry an Idempotency-Key, so a repeat cannot make a second lead)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def call(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
             ) -> tuple[int, bytes]:  # fmt: skip
        for _attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
            try:
                self.conn.request(method, path, body=body, headers=headers)
                response = self.conn.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, data
            except (OSError, http.client.HTTPException):
                self.close()
        return 0, b""

    def timed(self, parts: Parts, part: str, method: str, path: str, headers: dict[str, str],
              body: bytes | None = None) -> tuple[int, bytes]:  # fmt: skip
        began = time.monotonic()
        status, data = self.call(method, path, headers, body)
        parts.add(part, status, (time.monotonic() - began) * 1000)
        return status, data

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def intake_sender(port: int, key: str, rate: float, t0: float, t_end: float, counter: Any,
                  parts: Parts, answered: list[int]) -> None:  # fmt: skip
    """Open loop: post n is due at t0 + n / rate and its time counts from then, so a server that
    falls behind shows as latency rather than as fewer posts."""
    client = Http(port)
    while (due := t0 + (n := next(counter)) / rate) < t_end:
        time.sleep(max(0.0, due - time.monotonic()))
        headers = {"Content-Type": "application/json", "Idempotency-Key": f"whole-loop-{n}"}
        status, data = client.call("POST", f"/in/{key}", headers, lead_body(n))
        parts.add("intake: POST /in/<key>", status, (time.monotonic() - due) * 1000)
        if status == 201:
            answered.append(int(json.loads(data)["lead_id"]))
    client.close()


def start_intake(port: int, key: str, rate: float, t0: float, t_end: float, parts: Parts,
                 answered: list[int], senders: int = 32) -> list[threading.Thread]:  # fmt: skip
    counter = itertools.count()  # next() on a count is atomic under the GIL
    args = (port, key, rate, t0, t_end, counter, parts, answered)
    threads = [threading.Thread(target=intake_sender, args=args) for _ in range(senders)]
    for thread in threads:
        thread.start()
    return threads


class Stopped(Exception):
    pass


def rep_loop(port: int, user: dict[str, Any], stop: threading.Event, parts: Parts, think: float,
             seed: int) -> None:  # fmt: skip
    """A rep or a manager working the list, closed loop with think time before each request: the
    list (API), My day or the team page, the list page, a lead (API, page), a call logged."""
    rng, client = random.Random(seed), Http(port)
    api, ui = {"X-API-Key": user["key"]}, {"Cookie": f"sessionid={user['session']}"}
    manager = user["role"] == "sales_manager"
    who = "manager" if manager else "rep"
    mine = f"team={user['team']}" if manager else f"assigned_to={user['id']}"
    query = f"{mine}&state=open&sort=-priority&limit=25"

    def step(part: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, bytes]:
        if stop.wait(rng.uniform(0.5 * think, 1.5 * think)):
            raise Stopped
        method, data = ("POST", json.dumps(body).encode()) if body else ("GET", None)
        return client.timed(parts, f"{who}: {part}", method, path, headers, data)

    with contextlib.suppress(Stopped):
        while True:
            status, data = step("lead list (API)", f"/api/v1/leads?{query}", api)
            ids = [item["id"] for item in json.loads(data)["items"]] if status == 200 else []
            if manager:
                step("team (UI)", "/sales/team/", ui)
            else:
                step("my day (UI)", "/sales/my-day/", ui)
            step("lead list (UI)", f"/leads/?{query}", ui)
            if not ids:
                continue
            lead = rng.choice(ids[:10])
            step("open lead (API)", f"/api/v1/leads/{lead}", api)
            step("lead page (UI)", f"/leads/{lead}/", ui)
            if not manager:
                outcome = rng.choices(("reached", "no_answer", "voicemail"), (4, 4, 2))[0]
                call = {"outcome": outcome, "duration_seconds": rng.randrange(20, 400)}
                headers = {**api, "Content-Type": "application/json"}
                step("log call (API)", f"/api/v1/leads/{lead}/calls", headers, call)
    client.close()


def analytics_loop(port: int, users: dict[str, Any], stop: threading.Event, parts: Parts,
                   every: float, freshness: list[float]) -> None:  # fmt: skip
    """The dashboards every `every` seconds, taking turns (the admin's source report, the
    manager's KPIs; page and API), and how far behind the figures are (`seconds_behind`)."""
    client, admin, manager = Http(port), users["admin"], users["manager.north"]
    pages, api = "/analytics/", "/api/v1/analytics/"
    turns = itertools.cycle((
        ("sources (UI)", pages + "sources/", {"Cookie": f"sessionid={admin['session']}"}),
        ("KPIs (UI)", pages + "kpis/", {"Cookie": f"sessionid={manager['session']}"}),
        ("sources (API)", api + "sources?period=last-30-days", {"X-API-Key": admin["key"]}),
        ("KPIs (API)", api + "kpis?period=last-30-days&by=rep", {"X-API-Key": manager["key"]}),
    ))  # fmt: skip
    while not stop.wait(every):
        part, path, headers = next(turns)
        client.timed(parts, f"analytics: {part}", "GET", path, headers)
        status, body = client.call("GET", api + "freshness", {"X-API-Key": admin["key"]})
        if status == 200:
            freshness.append(float(json.loads(body)["seconds_behind"]))
    client.close()


def import_part(port: int, key: str, source_id: int, csv_path: Path, start_at: float,
                deadline: float, sql: Sql, result: dict[str, Any]) -> None:  # fmt: skip
    """Upload the CSV through the API at `start_at`; time it until the batch is `done` and until
    every lead from it is assessed (by the worker's assess_pending)."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    client, mark = Http(port), uuid.uuid4().hex
    head = (f'--{mark}\r\nContent-Disposition: form-data; name="source_id"\r\n\r\n{source_id}\r\n'
            f'--{mark}\r\nContent-Disposition: form-data; name="file"; filename="{csv_path.name}"'
            "\r\nContent-Type: text/csv\r\n\r\n")  # fmt: skip
    body = head.encode() + csv_path.read_bytes() + f"\r\n--{mark}--\r\n".encode()
    headers = {"X-API-Key": key, "Content-Type": f"multipart/form-data; boundary={mark}"}
    began = time.monotonic()
    status, data = client.call("POST", "/api/v1/intake/imports", headers, body)
    result.update(upload_status=status, upload_ms=round((time.monotonic() - began) * 1000, 1))
    batch = json.loads(data) if status == 202 else {"state": f"upload answered {status}"}
    while batch["state"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(1)
        status, data = client.call(
            "GET", f"/api/v1/intake/imports/{batch['id']}", {"X-API-Key": key}
        )
        batch = json.loads(data) if status == 200 else batch
    result["imported_s"] = round(time.monotonic() - began, 1)
    client.close()
    for field in ("state", "rows_read", "rows_created", "rows_duplicate", "rows_rejected"):
        result[field] = batch.get(field)
    count = "SELECT COUNT(*) FROM leads_lead WHERE source_id = %s AND assessed_at IS NULL"
    while batch["state"] == "done" and time.monotonic() < deadline:
        if sql.rows(count, (source_id,))[0][0] == 0:
            result["assessed_s"] = round(time.monotonic() - began, 1)
            break
        time.sleep(2)
    sql.close()


# --- the probes ------------------------------------------------------------------------------

TASKS = "django_tasks_database_dbtaskresult"
NEVER = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)  # django-tasks-db's run_after for "at once"


def when(value: Any) -> dt.datetime | None:
    """A timestamp as PostgreSQL (aware), SQLite or RQ (UTC text) gives it."""
    if not value:
        return None
    if isinstance(value, bytes | str):
        value = value.decode() if isinstance(value, bytes) else value
        return dt.datetime.fromisoformat(value.replace("Z", "")).replace(tzinfo=dt.UTC)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class Sql:
    """A connection of its own to the shape's database, for one thread, that only reads."""

    def __init__(self, env: dict[str, str]) -> None:
        self.sqlite = "DATABASE_URL" not in env
        if self.sqlite:
            path = env["LEADLOOP_SQLITE_PATH"]
            self.conn: Any = sqlite3.connect(
                path, timeout=30, isolation_level=None, check_same_thread=False
            )
        else:
            url = env["DATABASE_URL"].replace("postgres://", "postgresql://")
            self.conn = psycopg.connect(url, autocommit=True)

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        if self.sqlite:  # Django keeps UTC text there
            sql = sql.replace("%s", "?")
            params = tuple(p.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
                           if isinstance(p, dt.datetime) else p for p in params)  # fmt: skip
        return list(self.conn.execute(sql, params).fetchall())

    def close(self) -> None:
        self.conn.close()


def _run(path: str, failed: bool, due: Any, started: Any, ended: Any, exc: str) -> dict[str, Any]:
    return {"task": path.rsplit(".", 1)[-1].removesuffix("_task"), "failed": failed,
            "wait_s": (started - due).total_seconds() if started and due else None,
            "run_s": (ended - started).total_seconds() if ended and started else None,
            "error": exc}  # fmt: skip


def _queue() -> dict[str, float]:
    return {"depth": 0, "lag_s": 0.0, "running": 0, "deferred": 0}


class DbQueue:
    """django-tasks-db: READY rows that are due (depth), the oldest one's wait (lag), RUNNING."""

    def __init__(self, env: dict[str, str]) -> None:
        self.sql = Sql(env)

    def sample(self) -> dict[str, dict[str, float]]:
        now, out = dt.datetime.now(dt.UTC), defaultdict(_queue)
        rows = self.sql.rows(f"SELECT queue_name, status, run_after, enqueued_at FROM {TASKS} "
                             "WHERE status IN ('READY', 'RUNNING')")  # fmt: skip
        for queue, status, run_after, enqueued_at in rows:
            due = when(enqueued_at) if when(run_after) == NEVER else when(run_after)
            entry = out[queue]
            if status == "RUNNING" or due is None or due > now:
                entry["running" if status == "RUNNING" else "deferred"] += 1
                continue
            entry["depth"] += 1
            entry["lag_s"] = max(entry["lag_s"], round((now - due).total_seconds(), 1))
        return dict(out) or {"default": _queue()}

    def runs(self, since: dt.datetime) -> list[dict[str, Any]]:
        """Every task run that ended since `since`."""
        rows = self.sql.rows(
            f"SELECT task_path, status, run_after, enqueued_at, started_at, finished_at, "
            f"exception_class_path FROM {TASKS} WHERE finished_at >= %s", (since,))  # fmt: skip
        return [_run(path, status == "FAILED", when(queued) if when(after) == NEVER
                     else when(after), when(started), when(ended), exc)
                for path, status, after, queued, started, ended, exc in rows]  # fmt: skip


class RqQueue:
    """RQ: each queue's length (depth), its oldest job's wait (lag), the jobs running and
    scheduled. Finished and failed jobs are collected at every sample: RQ forgets a finished job
    500 s after it ended."""

    FIELDS = ("description", "enqueued_at", "started_at", "ended_at")

    def __init__(self, redis_url: str) -> None:
        self.redis = redis.Redis.from_url(redis_url)
        self.seen: dict[bytes, dict[str, Any]] = {}

    def sample(self) -> dict[str, dict[str, float]]:
        r, now, out = self.redis, dt.datetime.now(dt.UTC), {}
        for name in sorted(k.decode().rsplit(":", 1)[1] for k in r.smembers("rq:queues")):
            oldest = r.lindex(f"rq:queue:{name}", 0)
            stamp = (
                when(r.hget(f"rq:job:{oldest.decode()}", "enqueued_at") or b"") if oldest else None
            )
            lag = round((now - stamp).total_seconds(), 1) if stamp else 0.0
            out[name] = {"depth": r.llen(f"rq:queue:{name}"), "lag_s": max(lag, 0.0),
                         "running": r.zcard(f"rq:wip:{name}"),
                         "deferred": r.zcard(f"rq:scheduled:{name}")}  # fmt: skip
            for kind in ("finished", "failed"):
                new = [i for i in r.zrange(f"rq:{kind}:{name}", 0, -1) if i not in self.seen]
                pipe = r.pipeline()
                for job_id in new:
                    pipe.hmget(b"rq:job:" + job_id, self.FIELDS)
                for job_id, values in zip(new, pipe.execute(), strict=True):
                    texts = [v.decode(errors="replace") if v else "" for v in values]
                    fields = dict(zip(self.FIELDS, texts, strict=True))
                    self.seen[job_id] = {"failed": kind == "failed", **fields}
        return out or {"default": _queue()}

    def runs(self, since: dt.datetime) -> list[dict[str, Any]]:
        self.sample()
        jobs = [j for j in self.seen.values() if (when(j["ended_at"]) or since) >= since]
        return [_run(j["description"].split("(", 1)[0], j["failed"], when(j["enqueued_at"]),
                     when(j["started_at"]), when(j["ended_at"]), "") for j in jobs]  # fmt: skip


class PgLoad:
    """pg_stat_database of the bench database (deltas over the run) and pg_stat_activity."""

    COUNTERS = ("xact_commit", "xact_rollback", "blks_read", "blks_hit", "tup_returned",
                "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted", "deadlocks",
                "temp_bytes")  # fmt: skip

    def __init__(self, env: dict[str, str]) -> None:
        self.sql, self.name = Sql(env), env["DATABASE_URL"].rsplit("/", 1)[1]

    def totals(self) -> dict[str, int]:
        sql = f"SELECT {', '.join(self.COUNTERS)} FROM pg_stat_database WHERE datname = %s"
        return dict(zip(self.COUNTERS, map(int, self.sql.rows(sql, (self.name,))[0]), strict=True))

    def sample(self) -> dict[str, float]:
        active, total, locks, size = self.sql.rows(
            "SELECT count(*) FILTER (WHERE state = 'active'), count(*), count(*) FILTER "
            "(WHERE wait_event_type = 'Lock'), pg_database_size(%s) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name, self.name))[0]  # fmt: skip
        return {"active": active, "connections": total, "lock_waits": locks,
                "db_mb": round(size / 2**20, 1)}  # fmt: skip

    def close(self) -> None:
        self.sql.close()


class SqliteLoad:
    """The database and WAL sizes, and a probe that once a second takes the writers' lock as a
    writer would (core/sqlite_backend: an flock on `<database>-writers`, polled every 0.2 ms)
    and lets go at once: how long a new write transaction waits its turn."""

    def __init__(self, env: dict[str, str]) -> None:
        self.path, self.waits_ms = env["LEADLOOP_SQLITE_PATH"], []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._probe, daemon=True)
        self.thread.start()

    def _probe(self) -> None:
        fd = os.open(f"{self.path}-writers", os.O_RDWR | os.O_CREAT, 0o600)
        while not self.stop.wait(1.0):
            began = time.monotonic()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    time.sleep(0.0002)
            self.waits_ms.append((time.monotonic() - began) * 1000)
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def sample(self) -> dict[str, float]:
        sizes = {}
        for suffix, label in (("", "db_mb"), ("-wal", "wal_mb")):
            with contextlib.suppress(OSError):
                sizes[label] = round(os.path.getsize(self.path + suffix) / 2**20, 1)
        return sizes

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


TICK, PAGE = os.sysconf("SC_CLK_TCK"), os.sysconf("SC_PAGE_SIZE")


def cpu_groups(roots: dict[str, list[int]], servers: bool) -> dict[str, tuple[float, float]]:
    """CPU seconds and RSS MB of each group of process trees (/proc): `serve` is split into its
    web server (granian) and its task worker; with `servers`, the PostgreSQL and Redis servers,
    found by name (shared with whatever else uses them). A child's CPU is counted, once it
    exited, in its parent's (the web server's workers, RQ's work horses, an import's workers)."""
    table = {}
    for entry in os.scandir("/proc"):
        with contextlib.suppress(OSError, ValueError):
            raw = Path(f"/proc/{entry.name}/stat").read_text()
            rest = raw[raw.rindex(")") + 2 :].split()
            cpu = sum(int(v) for v in rest[11:15]) / TICK  # utime, stime, cutime, cstime
            name = raw[raw.index("(") + 1 : raw.rindex(")")]
            table[int(entry.name)] = (int(rest[1]), name, cpu, int(rest[21]) * PAGE / 2**20)
    children: dict[int, list[int]] = defaultdict(list)
    for pid, (ppid, *_rest) in table.items():
        children[ppid].append(pid)
    sums: dict[str, tuple[float, float]] = defaultdict(lambda: (0.0, 0.0))

    def add(group: str, pid: int, whole: bool = True) -> None:
        stack = [pid]
        while stack:
            here = stack.pop()
            cpu, rss = sums[group]
            sums[group] = (cpu + table[here][2], rss + table[here][3])
            stack.extend(c for c in children[here] if whole and c in table)

    for group, pids in roots.items():
        for pid in (p for p in pids if p in table):
            if group != "serve":
                add(group, pid)
                continue
            add("serve (supervisor)", pid, whole=False)
            for child in children[pid]:
                with contextlib.suppress(OSError):
                    command = Path(f"/proc/{child}/cmdline").read_bytes()
                    add("web" if b"granian" in command else "worker", child)
    for pid, (ppid, name, *_rest) in table.items() if servers else ():
        parent = table.get(ppid, (0, ""))[1]
        for server in ("postgres", "redis-server"):
            if name.startswith(server) and not parent.startswith(server):
                add(server.split("-")[0], pid)
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    sums["the whole machine (busy)"] = ((sum(fields) - fields[3] - fields[4]) / TICK, 0.0)
    return dict(sums)


def spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {"p50": round(percentile(values, 50), 1), "p99": round(percentile(values, 99), 1),
            "max": round(max(values), 1)}  # fmt: skip
