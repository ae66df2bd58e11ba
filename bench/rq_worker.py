"""RQ's worker forking a child per job, against Leadloop's, which runs the job itself.

    .venv/bin/python bench/rq_worker.py [--jobs 300] [--rounds 3]
        [--pg-url postgres://postgres@127.0.0.1:5432] [--redis-url redis://127.0.0.1:6379/9]

A fresh PostgreSQL database `leadloop_bench_rqworker` and a flushed Redis database. Each round
queues --jobs runs of a task that finds nothing to do (`send_backlog_task`: one query), then
times `leadloop rqworker --burst` until the queue is empty, once with RQ's `Worker` (a fork per
job) and once with `leadloop.core.rq_worker.Worker`. What differs is only what a job costs
around its own work: the fork, a new database connection in the child, RQ's bookkeeping.
Prints jobs a second per class, the best of --rounds.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent))

from routing_common import fresh_env, python
from run_all import BIN, machine

CLASSES = {"rq.worker.Worker (fork per job)": "rq.worker.Worker",
           "leadloop.core.rq_worker.Worker": "leadloop.core.rq_worker.Worker"}  # fmt: skip

QUEUE = """
from leadloop.core.retry import enqueue
for _ in range({jobs}):
    enqueue("leadloop.webhooks.tasks.send_backlog_task")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench-rqworker")
    args = parser.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    env = fresh_env("postgres", workdir, args.pg_url, "rqworker")
    env.update(TASKS_BACKEND="rq", REDIS_URL=args.redis_url)
    print(machine())
    best: dict[str, float] = {}
    for _round in range(args.rounds):
        for label, path in CLASSES.items():
            redis.Redis.from_url(args.redis_url).flushdb()
            python(QUEUE.format(jobs=args.jobs), env)
            began = time.perf_counter()
            subprocess.run(
                [str(BIN / "leadloop"), "rqworker", "default", "--burst", "-v0",
                 "--job-class", "django_tasks_rq.backend.Job", "--worker-class", path],
                env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            rate = args.jobs / (time.perf_counter() - began)
            best[label] = max(best.get(label, 0.0), rate)
            print(f"{label}: {args.jobs} jobs, {rate:.1f} jobs/s", flush=True)
    for label, rate in best.items():
        print(f"best of {args.rounds}: {label}: {rate:.1f} jobs/s ({1000 / rate:.1f} ms a job)")


if __name__ == "__main__":
    main()
