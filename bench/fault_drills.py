"""Fault drills on the production shape under load (issue 18, item 3).

    .venv/bin/python bench/fault_drills.py [--rate 20] [--gap 30] [--drain 480]

A PostgreSQL server and a Redis server of the drill's own (initdb and redis-server in the
workdir, on free ports: restarting them touches nothing else), `leadloop serve --no-worker
--workers 2` and two `leadloop worker` processes on RQ, a local SMTP server that keeps every
mail. Leads are posted to the intake at a fixed rate for the whole drill while, `--gap` seconds
apart:

1. a web worker process is killed (`kill -9`; granian starts another);
2. a task worker is killed in the middle of its work, and started again a second later (as
   systemd's `Restart=always` would);
3. Redis is killed and started again empty (no persistence: every queued job is lost);
4. PostgreSQL is restarted (`pg_ctl restart -m fast`: every connection is cut);
5. the other task worker is killed and started again.

Then the load stops and the drill waits (up to `--drain` s) until every post is a lead and every
lead is assessed. It reports every answer by status around each fault and checks: every `201`
has its lead, every `202` became one, nothing is left `received`, no lead was assessed or routed
twice, no notification was made or mailed twice. Prints a Markdown table and writes JSON to the
workdir. docs/operations.md ("Faults") records a run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from run_all import BIN, free_port  # noqa: E402

_PG = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
PG_BIN = _PG[-1] if _PG else Path("/usr/bin")  # Debian's versioned server binaries


def as_postgres(cmd: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


class Postgres:
    def __init__(self, folder: Path) -> None:
        self.data, self.port = folder / "data", free_port()
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(folder, "postgres", "postgres")
        subprocess.run(as_postgres([str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust",
                                    "-U", "postgres", "--no-sync"]), check=True,
                       capture_output=True)  # fmt: skip
        self.log = folder / "server.log"

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200"
        subprocess.run(as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-l",
                                    str(self.log), "-o", options, *args]), check=True,
                       capture_output=True)  # fmt: skip

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/leadloop"


class Redis:
    def __init__(self) -> None:
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(self.port), "ping"],
                              capture_output=True).stdout.strip() == b"PONG":  # fmt: skip
                return
            time.sleep(0.05)
        raise RuntimeError("redis did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()


def children(pid: int) -> list[int]:
    """Every descendant of `pid`, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


SMTP = """
import sys, time, json
from aiosmtpd.controller import Controller
class Keep:
    async def handle_DATA(self, server, session, envelope):
        with open(sys.argv[2], "a") as out:
            head = envelope.content.split(b"\\r\\n\\r\\n", 1)[0].decode(errors="replace")
            mid = [l.split(":", 1)[1].strip() for l in head.split("\\r\\n")
                   if l.lower().startswith("message-id:")]
            out.write(json.dumps({"to": envelope.rcpt_tos, "id": mid[0] if mid else ""}) + "\\n")
        return "250 OK"
Controller(Keep(), hostname="127.0.0.1", port=int(sys.argv[1])).start()
while True: time.sleep(3600)
"""


def leadloop(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([str(BIN / "leadloop"), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"leadloop {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout


def python(env: dict[str, str], code: str) -> str:
    prelude = (
        "import os, django\nos.environ['DJANGO_SETTINGS_MODULE'] = 'leadloop.settings'\n"
        "django.setup()\n"
    )
    done = subprocess.run([str(BIN / "python"), "-c", prelude + code], env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return done.stdout


class Load:
    """Open-loop posts at a fixed rate; each answer kept with the second it was sent."""

    def __init__(self, port: int, key: str, rate: float) -> None:
        self.port, self.key, self.rate = port, key, rate
        self.answers: list[dict[str, Any]] = []
        self.lock, self.stop = threading.Lock(), threading.Event()

    def _one(self, n: int, at: float, t0: float) -> None:
        row: dict[str, Any] = {"n": n, "t": round(at - t0, 2)}
        # Two of BANT met: the demo's readiness rule makes these sales-ready, so each is routed.
        lead = {"first_name": f"Drill{n}", "last_name": "Fault", "country": "NL",
                "email": f"drill{n}@fault{n % 97}.example.com", "phone": f"06{20000000 + n}",
                "bant_budget": "met", "bant_need": "met"}  # fmt: skip
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request("POST", f"/in/{self.key}", body=json.dumps(lead),
                         headers={"Content-Type": "application/json"})  # fmt: skip
            answer = conn.getresponse()
            status, body = answer.status, answer.read()
            row["status"] = status
            with contextlib.suppress(ValueError):
                row.update({k: v for k, v in json.loads(body).items()
                            if k in ("lead_id", "submission_id", "reason")})  # fmt: skip
        except (OSError, http.client.HTTPException) as exc:
            row["status"], row["error"] = 0, type(exc).__name__
        finally:
            conn.close()
        with self.lock:
            self.answers.append(row)

    def run(self, t0: float) -> None:
        n, threads = 0, []
        while not self.stop.is_set():
            at = t0 + n / self.rate
            time.sleep(max(0.0, at - time.time()))
            thread = threading.Thread(target=self._one, args=(n, at, t0), daemon=True)
            thread.start()
            threads.append(thread)
            n += 1
        for thread in threads:
            thread.join(60)


class Deployment:
    """serve --no-worker and two RQ workers, started again 2 s after they exit, as the systemd
    units in docs/deploy do (`Restart=always`, `RestartSec=2`; serve keeps its web workers)."""

    def __init__(self, env: dict[str, str], port: int, logs: Path) -> None:
        self.env, self.port, self.logs = env, port, logs
        self.web: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes] | None] = [None, None]
        self.exits: list[dict[str, Any]] = []
        self.lock, self.done = threading.Lock(), threading.Event()
        threading.Thread(target=self._supervise, daemon=True).start()

    def _supervise(self) -> None:
        while not self.done.wait(0.5):
            for i, proc in enumerate(self.workers):
                if proc is not None and proc.poll() is not None:
                    with self.lock:
                        if self.workers[i] is not proc:
                            continue
                        self.exits.append({"worker": i, "code": proc.returncode,
                                           "at": round(time.time(), 1)})  # fmt: skip
                        self.workers[i] = None
                    time.sleep(2.0)  # RestartSec=2
                    with self.lock:
                        if self.workers[i] is None and not self.done.is_set():
                            self.start_worker(i)

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        out = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - the process keeps it
        return subprocess.Popen([str(BIN / "leadloop"), *args], env=self.env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip

    def start(self) -> None:
        serve = ["serve", "--no-worker", "--workers", "2", "--host", "127.0.0.1"]
        self.web = self._spawn("web", [*serve, "--port", str(self.port)])
        for i in range(2):
            self.start_worker(i)
        for _ in range(600):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("serve did not become ready")

    def start_worker(self, i: int) -> None:
        self.workers[i] = self._spawn(f"worker{i}", ["worker"])

    def kill_worker(self, i: int) -> dict[str, Any]:
        """kill -9 worker i's process group; the supervisor starts it again 2 s later."""
        for _ in range(20):
            proc = self.workers[i]
            if proc is not None:
                break
            time.sleep(0.5)  # being restarted just now
        assert proc is not None
        group = [proc.pid, *children(proc.pid)]
        os.killpg(proc.pid, signal.SIGKILL)
        return {"killed": group}

    def kill_web_worker(self) -> dict[str, Any]:
        assert self.web is not None
        # granian's worker processes are the leaves of serve's tree.
        leaves = [p for p in children(self.web.pid) if not children(p)]
        victim = leaves[-1]
        os.kill(victim, signal.SIGKILL)
        return {"killed": victim}

    def stop(self) -> None:
        self.done.set()
        for proc in [self.web, *self.workers]:
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [self.web, *self.workers]:
            if proc is not None:
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)


STATE = """
import json
from django.db.models import Count
from django_rq import get_queue
from leadloop.intake.models import RawSubmission
from leadloop.leads.models import Activity, Lead
from leadloop.distribution.models import RouteDecision
from leadloop.notifications.models import Notification
source = int(os.environ["DRILL_SOURCE"])
leads = Lead.objects.filter(source_id=source)
ids = set(leads.values_list("id", flat=True))
def twice(qs, *fields):
    return qs.values(*fields).annotate(n=Count("id")).filter(n__gt=1).count()
print(json.dumps({
    "leads": len(ids),
    "ids": sorted(ids),
    "unassessed": leads.filter(assessed_at__isnull=True).count(),
    "received": RawSubmission.objects.filter(source_id=source, state="received").count(),
    "submissions": dict(RawSubmission.objects.filter(source_id=source).values_list("state")
                        .annotate(n=Count("id")).values_list("state", "n")),
    "processed_ids": list(RawSubmission.objects.filter(source_id=source)
                          .exclude(state="received").values_list("id", flat=True)),
    "assessed_twice": twice(Activity.objects.filter(lead_id__in=ids, kind="assessed"), "lead_id"),
    "routed_twice": twice(RouteDecision.objects.filter(lead_id__in=ids), "lead_id"),
    "routed": RouteDecision.objects.filter(lead_id__in=ids).count(),
    "unrouted": list(leads.exclude(id__in=RouteDecision.objects.values("lead_id"))
                     .values_list("id", "status", "hold")),
    "notified_twice": twice(Notification.objects.filter(lead_id__in=ids),
                            "lead_id", "user_id", "kind"),
    "notifications": Notification.objects.filter(lead_id__in=ids).count(),
    "queued": get_queue("default").count,
}))
"""


def state(env: dict[str, str], source: int) -> dict[str, Any]:
    out = python({**env, "DRILL_SOURCE": str(source)}, STATE)
    return json.loads(out.strip().splitlines()[-1])


def window(answers: list[dict[str, Any]], start: float, seconds: float) -> dict[str, int]:
    counts = Counter(str(a["status"]) for a in answers if start <= a["t"] < start + seconds)
    return dict(sorted(counts.items()))


def seconds(answers: list[dict[str, Any]], start: float, span: int) -> list[str]:
    """Second by second from `start`: the statuses of the posts sent in it ("201×5")."""
    out = []
    for second in range(span):
        got = window(answers, start + second, 1)
        out.append(" ".join(f"{k}×{v}" for k, v in got.items() if k != "201") or "ok")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=5, help="leads posted a second")
    parser.add_argument("--gap", type=float, default=30, help="seconds between faults")
    parser.add_argument("--drain", type=float, default=480, help="seconds to wait afterwards")
    parser.add_argument("--demo-leads", type=int, default=2000)
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/fault_drills")
    args = parser.parse_args()
    work = Path(args.workdir)
    shutil.rmtree(work, ignore_errors=True)
    (work / "logs").mkdir(parents=True)
    pg, redis = Postgres(work / "pg"), Redis()
    pg.ctl("start")
    subprocess.run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                    "postgres", "leadloop"], check=True)  # fmt: skip
    redis.start()
    smtp_port, mails = free_port(), work / "mails.jsonl"
    smtp = subprocess.Popen([str(BIN / "python"), "-c", SMTP, str(smtp_port), str(mails)])
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("LEADLOOP_")},
        "DATABASE_URL": pg.url, "TASKS_BACKEND": "rq",
        "REDIS_URL": f"redis://127.0.0.1:{redis.port}/0", "LEADLOOP_VAR_DIR": str(work / "var"),
        "LEADLOOP_SMTP_HOST": "127.0.0.1", "LEADLOOP_SMTP_PORT": str(smtp_port),
        "LEADLOOP_SMTP_SECURITY": "none", "LEADLOOP_ORPHAN_AFTER_SECONDS": "30",
        "LEADLOOP_LOG_LEVEL": "WARNING", "LEADLOOP_INTAKE_LIMIT_PER_ADDRESS": "0",
        "LEADLOOP_INTAKE_LIMIT_PER_SOURCE": "0",
    }  # fmt: skip
    deployment = Deployment(env, free_port(), work / "logs")
    report: dict[str, Any] = {"rate": args.rate, "gap": args.gap, "faults": []}
    try:
        leadloop(env, "migrate", "-v0")
        leadloop(env, "demo", "--leads", str(args.demo_leads))
        made = python(env, "from leadloop.accounts.actors import SYSTEM\n"
                      "from leadloop.leads import services\n"
                      "m = services.create_source(name='Drill', kind='http_post', by=SYSTEM)\n"
                      "print(m.source.pk, m.raw_key)")  # fmt: skip
        source_id, key = made.split()[-2:]
        deployment.start()
        subprocess.run(["redis-cli", "-p", str(redis.port), "flushall"], capture_output=True)
        load = Load(deployment.port, key, args.rate)
        t0 = time.time() + 1
        sender = threading.Thread(target=load.run, args=(t0,), daemon=True)
        sender.start()

        def fault(name: str, act: Any) -> None:
            at = time.time() - t0
            detail = act()
            report["faults"].append({"fault": name, "at_s": round(at, 1), "detail": detail})
            print(f"[{at:6.1f} s] {name}: {detail}", flush=True)

        def restart_redis() -> dict[str, Any]:
            redis.kill()
            time.sleep(2)
            redis.start()
            return {"down_s": 2}

        def restart_postgres() -> dict[str, Any]:
            began = time.time()
            pg.ctl("restart", "-m", "fast")
            return {"restart_s": round(time.time() - began, 1)}

        drills = [("kill -9 a web worker", deployment.kill_web_worker),
                  ("kill -9 a task worker mid-work", lambda: deployment.kill_worker(0)),
                  ("Redis killed, started again empty", restart_redis),
                  ("PostgreSQL restarted (fast)", restart_postgres),
                  ("kill -9 the other task worker", lambda: deployment.kill_worker(1))]  # fmt: skip
        for name, act in drills:
            time.sleep(max(0.0, t0 + args.gap * (len(report["faults"]) + 1) - time.time()))
            fault(name, act)
        time.sleep(max(0.0, t0 + args.gap * (len(drills) + 1) - time.time()))
        load.stop.set()
        sender.join(120)
        load_s = time.time() - t0
        answers = sorted(load.answers, key=lambda a: a["n"])
        began = time.time()
        while True:
            seen = state(env, int(source_id))
            settled = seen["received"] == 0 and seen["unassessed"] == 0 and seen["queued"] == 0
            # Every drill lead is sales-ready: routed, unless assessment held it for a person.
            settled = settled and not [u for u in seen["unrouted"] if not u[2]]
            if settled or time.time() - began > args.drain:
                break
            time.sleep(10)
        report["drain_s"] = round(time.time() - began, 1)
        report["worker_exits"] = [{**e, "at": round(e["at"] - t0, 1)} for e in deployment.exits]
        time.sleep(65)  # the mail sweeps' minute: a late duplicate would show now
        seen = state(env, int(source_id))
        ids = set(seen["ids"])
        lines = mails.read_text().splitlines() if mails.exists() else []
        mail_ids = [json.loads(line)["id"] for line in lines]
        ok = [a for a in answers if a["status"] == 201]
        deferred = [a for a in answers if a["status"] == 202]
        processed = set(seen["processed_ids"])
        faults = report["faults"]
        around = {f["fault"]: window(answers, f["at_s"] - 1, 10) for f in faults}
        report.update({
            "posted": len(answers), "load_s": round(load_s, 1),
            "answers": dict(sorted(Counter(str(a["status"]) for a in answers).items())),
            "around_faults": around,
            "by_second": {f["fault"]: seconds(answers, f["at_s"] - 1, 12) for f in faults},
            "answered_201_missing": len({a["lead_id"] for a in ok} - ids),
            "answered_202_not_processed": len({a["submission_id"] for a in deferred} - processed),
            "mails": len(mail_ids), "mails_twice": len(mail_ids) - len(set(mail_ids)),
            **{k: v for k, v in seen.items() if k not in ("ids", "processed_ids")},
        })  # fmt: skip
    finally:
        deployment.stop()
        smtp.kill()
        redis.kill()
        pg.ctl("stop", "-m", "fast")
    (work / "report.json").write_text(json.dumps(report, indent=1))
    print(json.dumps({k: v for k, v in report.items() if k != "faults"}, indent=1))
    print("\n| fault | at | answers in the 10 s from 1 s before | not 201, second by second |")
    print("| --- | --- | --- | --- |")
    for f in report["faults"]:
        name = f["fault"]
        by_second = ", ".join(report["by_second"][name])
        print(f"| {name} | {f['at_s']} s | {report['around_faults'][name]} | {by_second} |")


if __name__ == "__main__":
    main()
