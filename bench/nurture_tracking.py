"""Marketing mail tracking endpoints under load (issue 15; docs/nurture.md).

    .venv/bin/python bench/nurture_tracking.py [--messages 500] [--seconds 15] [--connections 32]
                                               [--workers 2] [--workdir /tmp/bench-nurture]

A SQLite database of its own under --workdir, migrated, with --messages marketing mails
"sent" to as many leads (`--prepare`, run in a child process: leads through the assessment
service, mails through `send_marketing_email`, then marked sent an hour ago). Then `leadloop
serve --no-worker --workers N` on a free loopback port, and for each endpoint:

pixel   GET /nurture/mail/o/<token>.gif over every message's open token in turn
click   GET /nurture/mail/c/<token>/ over every message's first link

with wrk (/usr/bin/wrk; a Lua script rotates the paths) for --seconds on --connections
connections (after a 3 s warm-up of both web workers on the pixel), or, without wrk, a Python
client with as many threads. Prints requests/s, p50 and p99 and the share of non-2xx/3xx
answers, and how many hits were stored. Every hit appends a
row (TrackingHit): the figure includes that INSERT. The server runs without a task worker, so
the hits wait; afterwards `tracking.process_hits` judges them all in a child process, and the
bench prints how fast (hits judged a second, events and counted ones).
Target (issue 15): 2,000 requests a second with p99 under 50 ms on SQLite.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_all import BIN, ROOT, free_port, machine, percentile, run

WRK = "/usr/bin/wrk"
TARGET_RPS = 2000.0
WARM_SECONDS = 3
LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i %% #paths + 1
  local agent = "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0"
  return wrk.format("GET", paths[i], {["User-Agent"] = agent})
end
"""


def prepare(count: int) -> None:
    """In a child process with Django set up: the leads, the mails, and their paths as JSON."""
    import django

    django.setup()
    from datetime import timedelta

    from django.urls import reverse
    from django.utils import timezone

    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment import services as assessment
    from leadloop.leads import services as lead_services
    from leadloop.leads.models import ChannelKind
    from leadloop.nurture.mail import services as mail
    from leadloop.nurture.mail.models import MarketingMessage, MessageState
    from leadloop.nurture.mail.services import tokens

    source = lead_services.create_source(name="Bench", kind=ChannelKind.API, by=SYSTEM).source
    template = mail.create_template(
        by=SYSTEM,
        name="Bench",
        language="en",
        subject="Hi {first_name}",
        body="Dear {first_name},\n\n[Our offer](https://example.com/offer) and [more](https://example.com/more).",
    )
    opens, clicks = [], []
    for n in range(count):
        lead = assessment.create_lead(
            {"first_name": f"Bench{n}", "last_name": "Lead", "email": f"bench{n}@example.com"},
            source=source,
            by=SYSTEM,
        )
        message = mail.send_marketing_email(lead, template, by=SYSTEM)
        opens.append(reverse("nurture:mail-open", args=[tokens.open_token(message.key)]))
        clicks.append(reverse("nurture:mail-click", args=[tokens.click_token(message.key, 0)]))
    hour_ago = timezone.now() - timedelta(hours=1)
    MarketingMessage.objects.update(state=MessageState.SENT, sent_at=hour_ago, claimed_at=hour_ago)
    print(json.dumps({"open": opens, "click": clicks}))


def stored(env: dict[str, str]) -> dict[str, int]:
    code = (
        "import django, json; django.setup()\n"
        "from leadloop.nurture.mail import models\n"
        "T = models.TrackingEvent; H = getattr(models, 'TrackingHit', None)\n"
        "print(json.dumps({'hits': H.objects.count() if H else T.objects.count(),\n"
        "                  'events': T.objects.count(),\n"
        "                  'counted': T.objects.filter(counted=True).count()}))"
    )
    return json.loads(run([str(BIN / "python"), "-c", code], env, capture=True))


def judge(env: dict[str, str]) -> dict[str, Any]:
    """Judge every waiting hit as the worker would, timed (none to judge for code before hits
    were judged in batches: there the request judged its own)."""
    code = (
        "import django, json, time; django.setup()\n"
        "from leadloop.nurture.mail.services import tracking\n"
        "judge = getattr(tracking, 'process_hits', lambda: 0)\n"
        "began = time.perf_counter(); n = judge()\n"
        "print(json.dumps({'judged': n, 'seconds': round(time.perf_counter() - began, 2)}))"
    )
    result = json.loads(run([str(BIN / "python"), "-c", code], env, capture=True))
    after = stored(env)
    result["per_second"] = round(result["judged"] / max(result["seconds"], 0.001))
    result["events"], result["counted"] = after["events"], after["counted"]
    return result


def with_wrk(port: int, paths: list[str], args: argparse.Namespace, work: Path) -> dict[str, Any]:
    listing = work / "paths.txt"
    listing.write_text("\n".join(paths) + "\n")
    script = work / "paths.lua"
    script.write_text(LUA % listing)
    out = subprocess.run(
        [
            WRK,
            f"-t{min(4, args.connections)}",
            f"-c{args.connections}",
            f"-d{args.seconds}s",
            "--latency",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float:
        match = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        if not match:
            return float("nan")
        value, unit = float(match.group(1)), match.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "tool": "wrk",
        "requests": total,
        "rps": round(rps),
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "non_2xx_3xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(1).strip() if errors else "",
    }


def with_python(port: int, paths: list[str], args: argparse.Namespace) -> dict[str, Any]:
    import http.client

    samples: list[float] = []
    bad = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def worker(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i, mine, wrong = offset, [], 0
        while time.monotonic() < stop_at:
            began = time.perf_counter()
            conn.request("GET", paths[i % len(paths)], headers={"User-Agent": "bench"})
            response = conn.getresponse()
            response.read()
            mine.append((time.perf_counter() - began) * 1000)
            wrong += response.status >= 400
            i += 1
        with lock:
            samples.extend(mine)
            bad[0] += wrong

    threads = [threading.Thread(target=worker, args=(n * 7,)) for n in range(args.connections)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began
    return {
        "tool": "python",
        "requests": len(samples),
        "rps": round(len(samples) / took),
        "p50_ms": round(percentile(samples, 50), 2),
        "p99_ms": round(percentile(samples, 99), 2),
        "non_2xx_3xx": bad[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", default="")
    parser.add_argument("--prepare", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
        return 0
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-nurture-"))
    shutil.rmtree(work / "var", ignore_errors=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "leadloop.settings",
        "LEADLOOP_VAR_DIR": str(work / "var"),
        "LEADLOOP_SMTP_HOST": "127.0.0.1",  # queued only: nothing is sent during the bench
        "LEADLOOP_SECURE": "false",
    }
    env.pop("DATABASE_URL", None)
    run([str(BIN / "leadloop"), "migrate", "-v0"], env)
    began = time.monotonic()
    paths = json.loads(
        run([str(BIN / "python"), __file__, "--prepare", str(args.messages)], env, capture=True)
    )
    print(f"prepared {args.messages} sent mails in {time.monotonic() - began:.0f} s")
    port = free_port()
    server = subprocess.Popen(
        [
            str(BIN / "leadloop"),
            "serve",
            "--no-worker",
            "--workers",
            str(args.workers),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env={**env, "LEADLOOP_LOG_LEVEL": "WARNING"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results: dict[str, Any] = {
        "machine": machine(),
        "messages": args.messages,
        "workers": args.workers,
        "connections": args.connections,
    }
    try:
        _wait(port, paths["open"][0])
        # Both web workers load and warm up (the first requests of a process read translation
        # catalogues and the like): measured without that, the first endpoint's p99 was the
        # start-up, not the endpoint. Its hits are stored like the others but not counted.
        warm = argparse.Namespace(**{**vars(args), "seconds": WARM_SECONDS})
        if os.path.exists(WRK):
            with_wrk(port, paths["open"], warm, work)
        else:
            with_python(port, paths["open"], warm)
        for name in ("open", "click"):
            before = stored(env)
            measure = (
                with_wrk(port, paths[name], args, work)
                if os.path.exists(WRK)
                else with_python(port, paths[name], args)
            )
            after = stored(env)
            measure["hits_stored"] = after["hits"] - before["hits"]
            results[name] = measure
            print(
                f"{name:6} {measure['rps']:>7,} req/s  p50 {measure['p50_ms']} ms  "
                f"p99 {measure['p99_ms']} ms  errors {measure['non_2xx_3xx']}  "
                f"hits stored {measure['hits_stored']:,}"
            )
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    results["judging"] = judge(env)
    done = results["judging"]
    print(
        f"judged {done['judged']:,} hits in {done['seconds']} s ({done['per_second']:,}/s): "
        f"{done['events']:,} events, {done['counted']} counted"
    )
    print(json.dumps(results, indent=2))
    return 0 if all(results[n]["rps"] >= TARGET_RPS for n in ("open", "click")) else 1


def _wait(port: int, path: str) -> None:
    import http.client

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError("the server did not answer within 60 s")


if __name__ == "__main__":
    sys.exit(main())
