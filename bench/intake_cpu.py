"""CPU per request in the web workers, as served: where the HTTP intake's ceiling comes from.

    .venv/bin/python bench/intake_cpu.py [--workers 1,2] [--seconds 10] [--path in|bare]

For each worker count: a fresh SQLite bench database (as bench/intake_http.py prepares it),
`leadloop serve --no-worker --workers N`, a 5-second warm-up, then wrk (2 threads, 32
connections, a distinct lead per request) for --seconds while the CPU time (user + system) of
every process on the machine is read from /proc before and after. Prints requests/s, the share
of a core each busy process used, and the CPU milliseconds per request in the web workers. wrk
itself exits before the second reading and is not counted. Linux only.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import intake_http
from run_all import BIN, ROOT, free_port

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_by_process() -> dict[int, tuple[str, int]]:
    """pid → (command line, user + system ticks) for every process."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as handle:
                stat = handle.read()
            with open(f"/proc/{name}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(name)] = (command.strip(), int(fields[11]) + int(fields[12]))
    return found


def measure(workers: int, seconds: int, path: str, lua: str, workdir: Path) -> None:
    env = intake_http.prepare("sqlite", workdir, "")
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "leadloop"), "serve", "--no-worker", "--workers", str(workers),
         "--host", "127.0.0.1", "--port", str(port)],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            probe = subprocess.run(
                ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{base}/login/"],
                capture_output=True, text=True,
            )  # fmt: skip
            if probe.stdout == "200":
                break
            time.sleep(0.3)
        url = f"{base}/in/{env['SOURCE_KEY']}" if path == "in" else f"{base}/bench/bare"
        intake_http.wrk(url, 5, lua)
        before, began = cpu_by_process(), time.monotonic()
        result = intake_http.wrk(url, seconds, lua)
        after, elapsed = cpu_by_process(), time.monotonic() - began
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    print(
        f"[{workers} worker(s), /{path}] {result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms"
    )
    workers_ticks = 0
    for pid, (command, ticks) in sorted(after.items()):
        used = ticks - before.get(pid, (command, 0))[1]
        if used / TICKS / elapsed < 0.02:
            continue
        print(f"   {used / TICKS / elapsed:6.1%} of a core  pid {pid}  {command[:70]}")
        if "granian" in command and "leadloop serve" not in command:
            workers_ticks += used
    per_request = workers_ticks / TICKS / result["requests"] * 1000
    print(f"   web workers: {per_request:.2f} ms of CPU per request")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--path", choices=["in", "bare"], default="in")
    parser.add_argument("--workdir", default="/tmp/leadloop-bench/intake-cpu")
    args = parser.parse_args()
    intake_http._runs = iter(range(int(time.time()) % 5000, 10_000))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(intake_http.LUA)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for workers in (int(w) for w in args.workers.split(",")):
        measure(workers, args.seconds, args.path, handle.name, workdir)


if __name__ == "__main__":
    main()
