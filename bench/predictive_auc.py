"""The predictive score on the demo history: AUC, lift, the leakage check, and predict_for's cost.

    .venv/bin/python bench/predictive_auc.py                   # 20,000 demo leads (as `make run`)
    .venv/bin/python bench/predictive_auc.py --leads 100000 --json

A fresh SQLite database under --workdir (never var/): `leadloop migrate`, the demo loader (whose
closed leads are won or lost with odds that follow the profile and behaviour, and whose won leads
carry a planted contract number), then `predictive.train()` exactly as `leadloop scoring train`
runs it, and `score_all_leads()`. The leakage check passes when the planted field is left out and
nothing else is; the figures are the held-out AUC and the lift of the top decile. predict_for is
timed per lead on unsaved copies of open leads (the intake case: no query) and on saved leads
(one query for the timeline), after one warm-up call that loads the model.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANTED = "extra.contract_number"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--leads", type=int, default=20_000, help="demo leads to load")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--samples", type=int, default=2_000, help="leads to time predict_for on")
    parser.add_argument("--workdir", default="", help="where the bench database goes")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="leadloop-bench-predictive-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ["LEADLOOP_VAR_DIR"] = str(workdir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("TASKS_BACKEND", "dummy")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment.predictive import services as predictive
    from leadloop.demo.dataset import load_demo
    from leadloop.leads.models import Lead

    call_command("migrate", verbosity=0)
    began = time.perf_counter()
    demo = load_demo(leads=args.leads, seed=args.seed)
    demo_seconds = time.perf_counter() - began

    began = time.perf_counter()
    model = predictive.train(by=SYSTEM)
    train_seconds = time.perf_counter() - began
    predictive.invalidate()
    began = time.perf_counter()
    scored = predictive.score_all_leads()
    score_seconds = time.perf_counter() - began
    report = model.report
    excluded = [item["field"] for item in report["excluded"]]

    leads = list(
        Lead.objects.exclude(status__in=predictive.CLOSED)
        .select_related("source", "organization")
        .order_by("id")[: args.samples]
    )
    predictive.predict_for(leads[0])  # loads the model
    unsaved = []
    for lead in leads:
        fresh = copy.copy(lead)
        fresh.pk = None
        unsaved.append(fresh)
    new_times = _timed(predictive.predict_for, unsaved)
    saved_times = _timed(predictive.predict_for, leads)

    figures = {
        "leads": demo.leads,
        "demo_seconds": round(demo_seconds, 1),
        "closed_leads": report["training_size"],
        "class_counts": report["class_counts"],
        "auc": report["auc"],
        "top_decile_lift": report["lift"][0]["lift"],
        "top_decile_won_share": report["lift"][0]["rate"],
        "base_rate": report["base_rate"],
        "excluded": excluded,
        "leakage_check_passed": excluded == [PLANTED],
        "too_good_warning": any(w["code"] == "too_good" for w in report["warnings"]),
        "train_seconds": round(train_seconds, 1),
        "scored_open_leads": scored,
        "score_all_seconds": round(score_seconds, 2),
        "predict_for_new_lead_us": _summary(new_times),
        "predict_for_saved_lead_us": _summary(saved_times),
        "workdir": str(workdir),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print(f"demo: {demo.leads:,} leads in {demo_seconds:.1f} s; {report['training_size']:,} closed")
    print(f"classes: {report['class_counts']}")
    print(f"held-out AUC: {report['auc']:.3f} (trained in {train_seconds:.1f} s)")
    top = report["lift"][0]
    print(
        f"top decile: {100 * top['rate']:.1f}% won against {100 * report['base_rate']:.1f}% "
        f"overall, lift {top['lift']:.2f}"
    )
    print(f"leakage exclusions: {', '.join(excluded) or '(none)'}")
    print(f"leakage check passed: {figures['leakage_check_passed']}")
    print(f"too good to be true: {figures['too_good_warning']}")
    print(f"score_all_leads: {scored:,} open leads in {score_seconds:.2f} s")
    for name, key in (("new lead (intake)", "new"), ("saved lead", "saved")):
        s = figures[f"predict_for_{key}_lead_us"]
        print(f"predict_for, {name}: median {s['median']} µs, p95 {s['p95']} µs")


def _timed(fn, items):  # type: ignore[no-untyped-def]
    times = []
    for item in items:
        began = time.perf_counter()
        fn(item)
        times.append((time.perf_counter() - began) * 1e6)
    return times


def _summary(times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[int(len(ordered) * 0.95) - 1], 1),
        "mean": round(statistics.fmean(ordered), 1),
    }


if __name__ == "__main__":
    main()
