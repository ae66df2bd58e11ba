"""Print bench/results/*.json as the Markdown tables docs/benchmarks.md shows.

.venv/bin/python bench/report.py bench/results/lead-list-sqlite-1000000-*.json ...
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def cell(result: dict | None) -> tuple[str, str]:
    if not result:
        return "-", "-"
    if "error" in result:
        return f"HTTP {result['status']}", ""
    return f"{result['p50_ms']:.0f}", f"{result['p95_ms']:.0f}"


def main(paths: list[str]) -> None:
    reports = [json.loads(Path(p).read_text()) for p in paths]
    names = [f"{r['database']}" for r in reports]
    head = "| shape | actor | " + " | ".join(
        f"{n} API p50 | {n} API p95 | {n} UI p50 | {n} UI p95" for n in names
    )
    print(head + " |")
    print("|" + "---|" * (2 + 4 * len(reports)))
    for index, row in enumerate(reports[0]["results"]):
        cells = []
        for report in reports:
            other = report["results"][index]
            cells += [*cell(other.get("api")), *cell(other.get("ui"))]
        print(f"| {row['shape']} | {row['actor']} | " + " | ".join(cells) + " |")
    print()
    for report in reports:
        print(f"- {report['database']}: parameters {json.dumps(report['params'])}")


if __name__ == "__main__":
    main(sys.argv[1:])
