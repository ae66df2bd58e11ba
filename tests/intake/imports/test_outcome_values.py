"""Choosing the outcome column and what its values mean: the import, the CLI, the API, the UI.

A CRM's stages are its own ("Closed - Converted", "Closed - Not Converted"); the person importing
says which mean won, lost, disqualified or open. Values nobody chose a meaning for are read as
before (won, lost, gewonnen, …) or set aside with the lead left open.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django_tasks import default_task_backend

from leadloop.intake.imports import services as import_batches
from leadloop.intake.imports.bulk import import_file, outcome_values_errors
from leadloop.intake.models import ImportBatch
from leadloop.leads.models import ChannelKind, Lead, LeadStatus
from tests.factories.leads import make_source

SALESFORCE = (
    "Email,Lead Status,Stage\n"
    "a@example.com,Closed - Converted,x\n"
    "b@example.com,Closed - Not Converted,x\n"
    "c@example.com,Working - Contacted,x\n"
    "d@example.com,Junk,x\n"
    "e@example.com,won,x\n"
    "f@example.com,Closed - Converted,x\n"
)
CHOSEN = {
    "Closed - Converted": "won",
    "closed - not converted": "lost",  # matched whatever the case
    "Junk": "disqualified",
    "won": "open",  # a choice beats the default reading
}


@pytest.fixture(autouse=True)
def _var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def crm(db):
    return make_source("Salesforce", kind=ChannelKind.IMPORT)


def _statuses() -> dict[str, str]:
    return dict(Lead.objects.values_list("email", "status"))


def _file(tmp_path, text: str = SALESFORCE):
    path = tmp_path / "leads.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_chosen_values_decide_the_status_and_the_rest_is_read_as_before(crm, marketing, tmp_path):
    mapping = {"fields": {"Lead Status": "status"}, "outcome_values": CHOSEN}

    report = import_file(_file(tmp_path), source=crm, by=marketing, mapping=mapping)

    assert (report.created, report.set_aside) == (6, 1)
    assert _statuses() == {
        "a@example.com": LeadStatus.WON,
        "b@example.com": LeadStatus.LOST,
        "c@example.com": LeadStatus.NEW,
        "d@example.com": LeadStatus.DISQUALIFIED,
        "e@example.com": LeadStatus.NEW,
        "f@example.com": LeadStatus.WON,
    }
    kept = Lead.objects.get(email="c@example.com").extra
    assert kept["invalid.status"] == "Working - Contacted"


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"Closed": "maybe"}, "outcome_values.Closed"),
        ({"Closed": ["won"]}, "outcome_values.Closed"),
        (["won"], "outcome_values"),
        ({f"v{n}": "won" for n in range(201)}, "outcome_values"),
    ],
)
def test_outcome_values_must_name_a_known_meaning(values, field):
    assert field in outcome_values_errors(values)


def test_cli_maps_any_column_to_the_outcome_and_takes_the_values_meaning(crm, tmp_path, capsys):
    call_command(
        "import", str(_file(tmp_path)), "--source", crm.name, "--map", "Lead Status=status",
        "--won", "Closed - Converted", "--lost", "Closed - Not Converted",
        "--disqualified", "Junk", "--open", "won",
    )  # fmt: skip

    assert _statuses()["a@example.com"] == LeadStatus.WON
    assert _statuses()["b@example.com"] == LeadStatus.LOST
    assert _statuses()["d@example.com"] == LeadStatus.DISQUALIFIED
    assert _statuses()["e@example.com"] == LeadStatus.NEW
    assert "6 rows read: 6 leads created" in capsys.readouterr().out


def test_cli_refuses_outcome_values_without_an_outcome_column(crm, tmp_path):
    path = _file(tmp_path, "Email,Stage\na@example.com,Closed - Converted\n")

    with pytest.raises(CommandError, match="--map COLUMN=status"):
        call_command("import", str(path), "--source", crm.name, "--won", "Closed - Converted")
    assert Lead.objects.count() == 0


def test_cli_still_refuses_an_unknown_field(crm, tmp_path):
    with pytest.raises(CommandError, match="known field"):
        call_command("import", str(_file(tmp_path)), "--source", crm.name, "--map", "Stage=stage")


def test_api_import_takes_the_outcome_column_and_its_values(
    crm, marketing, api_client_for, django_capture_on_commit_callbacks
):
    default_task_backend.clear()
    client = api_client_for(marketing)
    data = {
        "source_id": crm.pk,
        "file": SimpleUploadedFile("leads.csv", SALESFORCE.encode(), "text/csv"),
        "mapping": json.dumps({"Lead Status": "status"}),
        "outcome_values": json.dumps(CHOSEN),
    }

    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/api/v1/intake/imports", data)
    for result in list(default_task_backend.results):
        result.task.call(*result.args, **result.kwargs)

    assert answer.status_code == 202, answer.content
    assert answer.json()["mapping"]["outcome_values"] == CHOSEN
    assert _statuses()["a@example.com"] == LeadStatus.WON
    assert _statuses()["b@example.com"] == LeadStatus.LOST


@pytest.mark.parametrize("raw", ["not json", '["won"]', '{"Closed": "maybe"}'])
def test_api_refuses_bad_outcome_values_with_problem_details(crm, marketing, api_client_for, raw):
    client = api_client_for(marketing)
    data = {
        "source_id": crm.pk,
        "file": SimpleUploadedFile("leads.csv", SALESFORCE.encode(), "text/csv"),
        "outcome_values": raw,
    }

    answer = client.post("/api/v1/intake/imports", data)

    assert answer.status_code == 422
    assert answer["Content-Type"].startswith("application/problem+json")
    assert ImportBatch.objects.count() == 0
    assert Lead.objects.count() == 0


def test_the_values_of_the_outcome_column_are_listed_with_their_reading(crm, marketing):
    batch = import_batches.store_upload(
        io.BytesIO(SALESFORCE.encode()), filename="leads.csv", source=crm, by=marketing
    )

    values = import_batches.read_outcome_values(batch, "Lead Status", chosen={"junk": "lost"})

    assert [(v.value, v.rows, v.choice) for v in values] == [
        ("Closed - Converted", 2, ""),
        ("Closed - Not Converted", 1, ""),
        ("Junk", 1, "lost"),
        ("Working - Contacted", 1, ""),
        ("won", 1, "won"),
    ]


def test_the_confirm_page_asks_what_each_value_means_and_the_import_uses_it(
    crm, marketing, logged_in_client, django_capture_on_commit_callbacks
):
    client = logged_in_client(marketing)
    client.post(
        reverse("intake:import-create"),
        {
            "file": SimpleUploadedFile("leads.csv", SALESFORCE.encode(), "text/csv"),
            "source": crm.pk,
        },
    )
    batch = ImportBatch.objects.get()

    page = client.get(reverse("intake:import-confirm", args=[batch.pk]))
    # Choosing "Stage" as the outcome instead redraws the section for that column (htmx).
    redrawn = client.get(
        reverse("intake:import-outcome-values", args=[batch.pk]),
        {"target-1": "extra", "target-2": "status"},
        headers={"HX-Request": "true"},
    )
    values = {
        f"outcome-value-{n}": value
        for n, value in enumerate(
            ["Closed - Converted", "Closed - Not Converted", "Junk", "Working - Contacted"], 1
        )
    }
    choices = {"outcome-choice-1": "won", "outcome-choice-2": "lost", "outcome-choice-3": ""}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("intake:import-confirm", args=[batch.pk]), {**values, **choices})
    import_batches.run_batch(batch.pk)

    assert "What the values of “Lead Status” mean" in page.text
    assert 'name="outcome-value-1" value="Closed - Converted"' in page.text
    assert 'hx-get="' + reverse("intake:import-outcome-values", args=[batch.pk]) in page.text
    assert "What the values of “Stage” mean" in redrawn.text
    assert 'value="x"' in redrawn.text
    batch.refresh_from_db()
    assert batch.mapping["outcome_values"] == {
        "Closed - Converted": "won",
        "Closed - Not Converted": "lost",
    }
    assert _statuses()["a@example.com"] == LeadStatus.WON
    assert _statuses()["b@example.com"] == LeadStatus.LOST
    assert _statuses()["d@example.com"] == LeadStatus.NEW


def test_another_role_gets_no_outcome_values(crm, marketing, rep, logged_in_client):
    batch = import_batches.store_upload(
        io.BytesIO(SALESFORCE.encode()), filename="leads.csv", source=crm, by=marketing
    )

    answer = logged_in_client(rep).get(reverse("intake:import-outcome-values", args=[batch.pk]))

    assert answer.status_code in (403, 404)
    assert "Closed - Converted" not in answer.text
