"""Batch import in the UI and the API: upload, confirm the columns, the task, progress, rejects."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django_tasks import default_task_backend

from leadloop.intake.models import ImportBatch, ImportState
from leadloop.intake.tasks import import_file_task
from leadloop.leads.models import Lead
from tests.factories.leads import make_source

DUTCH_CSV = (
    b"Voornaam;Achternaam;E-mailadres;Telefoonnummer\n"
    b"Anna;de Vries;anna@example.nl;0612345678\n"
    b"Bram;Jansen;bram@example.nl;\n"
    b"Cor;Smit;;\n"
)

NO_CONTACT = (
    "Give an e-mail address, a phone number, or a complete postal address (street, postal "
    "code and city) with a name."
)


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture(autouse=True)
def _empty_task_queue():
    default_task_backend.clear()
    yield
    default_task_backend.clear()


@pytest.fixture
def crm(db):
    return make_source("CRM export")


def _upload(client, source, content: bytes = DUTCH_CSV, name: str = "leden.csv"):
    return client.post(
        reverse("intake:import-create"),
        {"file": SimpleUploadedFile(name, content, "text/csv"), "source": source.pk},
    )


def _enqueued() -> list[tuple[str, dict]]:
    return [(r.task.name, r.kwargs) for r in default_task_backend.results]


def _run_enqueued() -> None:
    for result in list(default_task_backend.results):
        result.task.call(*result.args, **result.kwargs)


def test_upload_confirm_start_and_finish_an_import(
    logged_in_client, marketing, crm, django_capture_on_commit_callbacks
):
    client = logged_in_client(marketing)

    uploaded = _upload(client, crm)
    batch = ImportBatch.objects.get()
    confirm = client.get(uploaded["Location"])

    assert uploaded.status_code == 302
    assert uploaded["Location"] == reverse("intake:import-confirm", args=[batch.pk])
    assert batch.state == ImportState.PENDING
    assert confirm.status_code == 200
    assert '<option value="first_name" selected>' in confirm.text
    assert '<option value="last_name" selected>' in confirm.text
    assert '<option value="email" selected>' in confirm.text
    assert "anna@example.nl" in confirm.text
    assert "3 rows with these columns: 2 would be imported, 1 rejected." in confirm.text
    assert Lead.objects.count() == 0

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("intake:import-confirm", args=[batch.pk]),
            {"target-0": "first_name", "target-1": "last_name", "target-2": "email",
             "target-3": "phone"},
        )  # fmt: skip

    batch.refresh_from_db()
    assert started.status_code == 302
    assert started["Location"] == reverse("intake:import-detail", args=[batch.pk])
    assert batch.state == ImportState.QUEUED
    assert _enqueued() == [("import_file_task", {"batch_id": batch.pk})]

    running = client.get(started["Location"], headers={"HX-Request": "true"})
    _run_enqueued()
    done = client.get(started["Location"], headers={"HX-Request": "true"})

    batch.refresh_from_db()
    assert 'hx-trigger="every 1s"' in running.text
    assert batch.state == ImportState.DONE
    assert (batch.progress, batch.rows_read, batch.rows_created, batch.rows_rejected) == (
        100, 3, 2, 1
    )  # fmt: skip
    assert sorted(Lead.objects.values_list("first_name", "email")) == [
        ("Anna", "anna@example.nl"),
        ("Bram", "bram@example.nl"),
    ]
    assert "hx-trigger" not in done.text
    assert '<dd class="num" data-count="created">2</dd>' in done.text
    assert '<dd class="num" data-count="rejected">1</dd>' in done.text
    assert f"/leads/?source={crm.pk}" in done.text
    assert reverse("intake:import-rejected", args=[batch.pk]) in done.text


def test_rejected_rows_download_with_row_numbers_and_reasons(logged_in_client, marketing, crm):
    client = logged_in_client(marketing)
    _upload(client, crm)
    batch = ImportBatch.objects.get()
    client.post(reverse("intake:import-confirm", args=[batch.pk]), {})
    import_file_task.call(batch_id=batch.pk)

    response = client.get(reverse("intake:import-rejected", args=[batch.pk]))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert rows == [
        ["row", "reasons", "Voornaam", "Achternaam", "E-mailadres", "Telefoonnummer"],
        ["4", NO_CONTACT, "Cor", "Smit", "", ""],
    ]


def test_a_formula_cell_stays_text_in_the_rejected_report(logged_in_client, marketing, crm):
    client = logged_in_client(marketing)
    _upload(client, crm, b'Voornaam,E-mailadres\n=HYPERLINK("http://x"),\n', name="f.csv")
    batch = ImportBatch.objects.get()
    client.post(reverse("intake:import-confirm", args=[batch.pk]), {})
    import_file_task.call(batch_id=batch.pk)

    response = client.get(reverse("intake:import-rejected", args=[batch.pk]))

    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[1][2] == '\'=HYPERLINK("http://x")'


def test_running_the_task_twice_imports_once(logged_in_client, marketing, crm):
    client = logged_in_client(marketing)
    _upload(client, crm)
    batch = ImportBatch.objects.get()
    client.post(reverse("intake:import-confirm", args=[batch.pk]), {})

    import_file_task.call(batch_id=batch.pk)
    import_file_task.call(batch_id=batch.pk)

    assert Lead.objects.count() == 2


def test_an_import_whose_worker_died_is_resumed_without_duplicates(
    logged_in_client, marketing, crm
):
    import datetime as dt

    import time_machine

    client = logged_in_client(marketing)
    _upload(client, crm)
    batch = ImportBatch.objects.get()
    client.post(reverse("intake:import-confirm", args=[batch.pk]), {})
    import_file_task.call(batch_id=batch.pk)
    ImportBatch.objects.filter(pk=batch.pk).update(state="running")  # as if the worker died

    import_file_task.call(batch_id=batch.pk)  # too soon: another worker may still be on it
    still_running = ImportBatch.objects.get(pk=batch.pk).state
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(minutes=31)):
        import_file_task.call(batch_id=batch.pk)

    assert still_running == "running"
    assert ImportBatch.objects.get(pk=batch.pk).state == "done"
    assert Lead.objects.count() == 2


def test_the_same_file_again_goes_to_the_finished_import(logged_in_client, marketing, crm):
    client = logged_in_client(marketing)
    _upload(client, crm)
    batch = ImportBatch.objects.get()
    client.post(reverse("intake:import-confirm", args=[batch.pk]), {})
    import_file_task.call(batch_id=batch.pk)

    again = _upload(client, crm)

    assert again["Location"] == reverse("intake:import-detail", args=[batch.pk])
    assert ImportBatch.objects.count() == 1
    assert Lead.objects.count() == 2


def test_an_unknown_target_is_refused_and_nothing_is_queued(logged_in_client, marketing, crm):
    client = logged_in_client(marketing)
    _upload(client, crm)
    batch = ImportBatch.objects.get()

    response = client.post(
        reverse("intake:import-confirm", args=[batch.pk]), {"target-0": "password"}
    )

    batch.refresh_from_db()
    assert response.status_code == 422
    assert batch.state == ImportState.PENDING
    assert _enqueued() == []


def test_the_list_shows_each_import(logged_in_client, marketing, crm):
    client = logged_in_client(marketing)
    _upload(client, crm)

    response = client.get(reverse("intake:import-list"))

    assert response.status_code == 200
    assert "leden.csv" in response.text
    assert "CRM export" in response.text
    assert "Waiting for confirmation" in response.text


def test_a_file_over_the_limit_is_refused(logged_in_client, marketing, crm, settings):
    settings.LEADLOOP_IMPORT_MAX_BYTES = 20

    response = _upload(logged_in_client(marketing), crm)

    assert response.status_code == 422
    assert ImportBatch.objects.count() == 0


def test_a_rep_gets_404_on_every_import_page(logged_in_client, marketing, rep, crm):
    _upload(logged_in_client(marketing), crm)
    batch = ImportBatch.objects.get()
    client = logged_in_client(rep)

    responses = [
        client.get(reverse("intake:import-list")),
        client.get(reverse("intake:import-create")),
        _upload(client, crm, b"email\nx@example.com\n", name="other.csv"),
        client.get(reverse("intake:import-detail", args=[batch.pk])),
        client.get(reverse("intake:import-confirm", args=[batch.pk])),
        client.post(reverse("intake:import-confirm", args=[batch.pk]), {}),
        client.get(reverse("intake:import-rejected", args=[batch.pk])),
    ]

    batch.refresh_from_db()
    assert [r.status_code for r in responses] == [404] * 7
    assert batch.state == ImportState.PENDING
    assert ImportBatch.objects.count() == 1
    assert _enqueued() == []


def test_the_api_imports_a_file_in_the_background(
    api_client_for, marketing, crm, django_capture_on_commit_callbacks
):
    client = api_client_for(marketing)

    with django_capture_on_commit_callbacks(execute=True):
        created = client.post(
            "/api/v1/intake/imports",
            {
                "file": SimpleUploadedFile("leden.csv", DUTCH_CSV, "text/csv"),
                "source_id": crm.pk,
                "mapping": json.dumps({"Telefoonnummer": "ignore"}),
            },
        )
    batch_id = created.json()["id"]
    assert created.status_code == 202
    assert created.json()["state"] == "queued"
    assert _enqueued() == [("import_file_task", {"batch_id": batch_id})]

    _run_enqueued()
    status = client.get(f"/api/v1/intake/imports/{batch_id}")
    rejected = client.get(f"/api/v1/intake/imports/{batch_id}/rejected")

    assert status.status_code == 200
    keys = ("state", "progress", "rows_created", "rows_rejected")
    assert {k: status.json()[k] for k in keys} == {
        "state": "done",
        "progress": 100,
        "rows_created": 2,
        "rows_rejected": 1,
    }
    assert list(Lead.objects.order_by("pk").values_list("phone_raw", flat=True)) == ["", ""]
    assert rejected.status_code == 200
    assert b"".join(rejected.streaming_content).decode("utf-8-sig").splitlines()[1] == (
        f'"4","{NO_CONTACT}","Cor","Smit","",""'
    )


def test_a_rep_cannot_import_through_the_api(api_client_for, rep, crm):
    client = api_client_for(rep)

    response = client.post(
        "/api/v1/intake/imports",
        {"file": SimpleUploadedFile("leden.csv", DUTCH_CSV, "text/csv"), "source_id": crm.pk},
    )

    assert response.status_code in (403, 404)
    assert ImportBatch.objects.count() == 0
    assert _enqueued() == []
