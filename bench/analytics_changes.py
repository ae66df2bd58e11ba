"""Bench helper, run inside Django on a bench database: change --changes leads through the
service (a contacted lead quoted, an assigned one contacted), as reps do in a busy hour, so
that the next refresh of the analytics facts has that many leads to read. Prints JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--changes", type=int, default=2000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    from leadloop.accounts.actors import SYSTEM
    from leadloop.leads import services
    from leadloop.leads.models import Lead, LeadStatus

    began = time.perf_counter()
    leads = list(Lead.objects.filter(status=LeadStatus.ASSIGNED).order_by("-pk")[: args.changes])
    for lead in leads:
        services.transition(lead, to=LeadStatus.CONTACTED, by=SYSTEM)
    json.dump({"changed": len(leads), "seconds": round(time.perf_counter() - began, 2)}, sys.stdout)


if __name__ == "__main__":
    main()
