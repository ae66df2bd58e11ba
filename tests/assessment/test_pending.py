"""Leads written in bulk (imports) are assessed in the background, once, by the periodic job."""

from __future__ import annotations

import csv
import io

import pytest
from django_tasks import default_task_backend

from leadloop.assessment import pending
from leadloop.core.schedule import SCHEDULE
from leadloop.core.services import acquire_lease
from leadloop.intake.imports.bulk import import_file
from leadloop.leads.models import Activity, ActivityKind, ChannelKind, Lead, LeadStatus
from tests.factories.assessment import make_grading_rule, set_scoring_settings
from tests.factories.leads import make_source


@pytest.fixture
def crm(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return make_source("CRM import", kind=ChannelKind.IMPORT)


def _csv(path, rows):
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


def test_imported_leads_are_assessed_by_the_background_job_and_only_once(crm, marketing, tmp_path):
    make_grading_rule(field="job_title", operator="contains", value="director", points=70)
    set_scoring_settings(ready_grades="A", ready_min_bant=0)
    path = _csv(
        tmp_path / "leads.csv",
        [
            ["first name", "last name", "email", "job title"],
            ["Noa", "Jansen", "noa@jansenbouw.nl", "Director"],
            ["Sem", "Smit", "sem@smit.nl", "Intern"],
        ],
    )
    import_file(path, source=crm, by=marketing)
    assert Lead.objects.filter(assessed_at__isnull=True).count() == 2

    first_run = pending.assess_pending()
    second_run = pending.assess_pending()

    assert (first_run, second_run) == (2, 0)
    noa = Lead.objects.get(email="noa@jansenbouw.nl")
    sem = Lead.objects.get(email="sem@smit.nl")
    assert (noa.fit_grade, noa.status) == ("A", LeadStatus.SALES_READY)
    assert (sem.fit_grade, sem.status) == ("D", LeadStatus.NURTURING)
    assert not Activity.objects.filter(kind=ActivityKind.ASSESSED).exists()
    assert Activity.objects.filter(lead=noa, kind=ActivityKind.STATUS_CHANGED).count() == 1
    assert "assess_pending" in {spec.name for spec in SCHEDULE}


def _import(crm, marketing, tmp_path, count):
    rows = [["first name", "last name", "email"]]
    rows += [[f"Lead{n}", "Jansen", f"lead{n}@jansenbouw.nl"] for n in range(count)]
    import_file(_csv(tmp_path / "leads.csv", rows), source=crm, by=marketing)


def test_a_run_past_its_time_budget_stops_and_queues_the_next_run(
    crm, marketing, tmp_path, monkeypatch
):
    """A 5,000-row import held the only worker for 143 s in one run; now a run stops after its
    budget (here: after the first chunk) and the next run carries on from the queue."""
    monkeypatch.setattr(pending, "CHUNK", 3)
    _import(crm, marketing, tmp_path, 5)
    default_task_backend.clear()

    first = pending.assess_pending(budget_seconds=0)

    assert first == 3
    assert Lead.objects.filter(assessed_at__isnull=True).count() == 2
    queued = [r.task.module_path for r in default_task_backend.results]
    assert queued == [pending.TASK]
    assert pending.assess_pending(budget_seconds=0) == 2
    assert len(default_task_backend.results) == 1  # nothing left: no further run queued


def test_only_one_run_assesses_at_a_time(crm, marketing, tmp_path):
    """Two workers each running the job assessed the same leads side by side."""
    _import(crm, marketing, tmp_path, 2)
    assert acquire_lease(pending.LEASE, holder="the other worker", ttl=pending.LEASE_TTL)

    assert pending.assess_pending() == 0
    assert Lead.objects.filter(assessed_at__isnull=True).count() == 2
