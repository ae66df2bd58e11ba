"""Polling FTP drop folders against a real FTP server: files become leads, then move on."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from leadloop.accounts.actors import SYSTEM
from leadloop.core.schedule import SCHEDULE
from leadloop.intake import services
from leadloop.intake.channels.ftp.ingest import poll_all_ftp, poll_ftp
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.intake import set_channel_mapping
from tests.factories.leads import make_source
from tests.intake.channels.ftp import test_client as test_ftp
from tests.intake.channels.ftp.test_client import no_wait

ftp_server = test_ftp.ftp_server  # the real FTP server fixture

pytestmark = [
    pytest.mark.django_db(transaction=True),  # rows fan out after the file's commit, as live
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),  # pyftpdlib uses asyncore
]

CSV = (
    "Voornaam;Achternaam;E-mailadres;Telefoon\r\n"
    "Jan;Jansen;jan@example.nl;0612345678\r\n"
    "Els;Bakker;els@example.nl;\r\n"
    "Piet;de Vries;;\r\n"
).encode("cp1252")


@pytest.fixture
def ftp_source(ftp_server, tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    source = make_source("Provider drop", kind=ChannelKind.FTP)
    return set_channel_mapping(source, mapping={"ftp": ftp_server.settings}, by=SYSTEM)


def test_a_dropped_csv_becomes_leads_and_moves_to_processed(ftp_source, ftp_server, tmp_path):
    ftp_server.put("leads-2026-11-02.csv", CSV)

    poll = poll_ftp(ftp_source, wait=no_wait)

    (outcome,) = poll.files
    parent = RawSubmission.objects.get(channel="ftp")
    assert (outcome.name, outcome.state, outcome.moved_to, outcome.error) == (
        "leads-2026-11-02.csv",
        "processed",
        "processed/leads-2026-11-02.csv",
        "",
    )
    assert outcome.rows == {"read": 3, "created": 2, "duplicates": 0, "rejected": 1}
    assert parent.state == SubmissionState.PROCESSED
    assert parent.meta["import_batch"] == outcome.batch_id
    assert bytes(parent.body) == CSV
    assert parent.idempotency_key.startswith("ftp:")
    assert sorted(Lead.objects.values_list("first_name", "last_name", "email")) == [
        ("Els", "Bakker", "els@example.nl"),
        ("Jan", "Jansen", "jan@example.nl"),
    ]
    assert sorted(p.name for p in ftp_server.root.iterdir()) == ["processed"]
    assert (ftp_server.root / "processed" / "leads-2026-11-02.csv").read_bytes() == CSV
    assert list((tmp_path / "var" / "ftp" / str(ftp_source.pk)).iterdir()) == []


def test_a_broken_file_is_quarantined_and_moves_to_failed(ftp_source, ftp_server):
    ftp_server.put("export.xlsx", b"PK\x03\x04 this is not a spreadsheet")

    poll = poll_ftp(ftp_source, wait=no_wait)

    (outcome,) = poll.files
    submission = RawSubmission.objects.get()
    assert (outcome.state, outcome.moved_to) == ("quarantined", "failed/export.xlsx")
    assert submission.state == SubmissionState.QUARANTINED
    assert [r["code"] for r in submission.reasons] == ["parse_error"]
    assert submission.reasons[0]["message"] != ""
    assert (ftp_server.root / "failed" / "export.xlsx").exists()
    assert Lead.objects.count() == 0


def test_a_header_only_file_is_quarantined_and_moves_to_failed(ftp_source, ftp_server):
    ftp_server.put("empty.csv", b"email;name\r\n")

    poll = poll_ftp(ftp_source, wait=no_wait)

    assert [(f.state, f.moved_to) for f in poll.files] == [("quarantined", "failed/empty.csv")]
    assert RawSubmission.objects.get().reasons == [
        {"code": "empty", "message": "No lead found in it."}
    ]


def test_the_same_file_dropped_again_makes_no_new_leads(ftp_source, ftp_server):
    ftp_server.put("monday.csv", CSV)
    poll_ftp(ftp_source, wait=no_wait)
    ftp_server.put("monday-again.csv", CSV)

    again = poll_ftp(ftp_source, wait=no_wait)

    assert [(f.repeat, f.moved_to) for f in again.files] == [(True, "processed/monday-again.csv")]
    assert Lead.objects.count() == 2
    assert RawSubmission.objects.filter(channel="ftp").count() == 1


def test_partial_uploads_wait_for_the_next_poll(ftp_source, ftp_server):
    ftp_server.put("big.csv.part", CSV)

    poll = poll_ftp(ftp_source, wait=no_wait)

    assert poll.files == []
    assert RawSubmission.objects.count() == 0
    assert (ftp_server.root / "big.csv.part").exists()


def test_a_file_over_the_cap_goes_to_failed_without_being_stored(ftp_source, ftp_server):
    set_channel_mapping(
        ftp_source, mapping={"ftp": {**ftp_server.settings, "max_bytes": 64}}, by=SYSTEM
    )
    ftp_server.put("huge.csv", CSV)

    poll = poll_ftp(ftp_source, wait=no_wait)

    assert [(f.moved_to, f.error) for f in poll.files] == [
        ("failed/huge.csv", "huge.csv is larger than the limit of 64 bytes.")
    ]
    assert RawSubmission.objects.count() == 0


def test_polling_all_ftp_sources_reports_an_unreachable_one(ftp_source, ftp_server):
    down = make_source("Down drop", kind=ChannelKind.FTP)
    set_channel_mapping(
        down, mapping={"ftp": {**ftp_server.settings, "port": 1, "timeout": 2}}, by=SYSTEM
    )
    ftp_server.put("leads.csv", CSV)
    # The scheduled poll waits for real; a short settle keeps this test quick.
    set_channel_mapping(
        ftp_source, mapping={"ftp": {**ftp_server.settings, "settle_seconds": 0.1}}, by=SYSTEM
    )

    polls = poll_all_ftp()

    assert [(p.source, len(p.files)) for p in polls] == [("Provider drop", 1), ("Down drop", 0)]
    assert polls[1].error.startswith("FTP failed: ")
    assert Lead.objects.count() == 2


def test_ftp_drop_folders_are_polled_every_five_minutes():
    (spec,) = [job for job in SCHEDULE if job.name == "poll_ftp"]

    assert spec.every == timedelta(minutes=5)
    assert spec.task.name == "poll_ftp_task"


def test_poll_ftp_command_prints_json_for_one_source(ftp_source, ftp_server):
    set_channel_mapping(
        ftp_source, mapping={"ftp": {**ftp_server.settings, "settle_seconds": 0.1}}, by=SYSTEM
    )
    ftp_server.put("leads.csv", CSV)
    out = io.StringIO()

    call_command("poll_ftp", "--source", "Provider drop", "--json", stdout=out)

    (poll,) = json.loads(out.getvalue())
    (file,) = poll["files"]
    assert (poll["source"], poll["error"]) == ("Provider drop", "")
    assert {k: file[k] for k in ("name", "state", "rows", "moved_to", "error")} == {
        "name": "leads.csv",
        "state": "processed",
        "rows": {"read": 3, "created": 2, "duplicates": 0, "rejected": 1},
        "moved_to": "processed/leads.csv",
        "error": "",
    }


def test_poll_ftp_command_fails_in_one_line_when_the_server_is_down(ftp_source, ftp_server):
    set_channel_mapping(
        ftp_source, mapping={"ftp": {**ftp_server.settings, "port": 1, "timeout": 2}}, by=SYSTEM
    )

    with pytest.raises(CommandError, match=r"^Some drop folders or files failed: Provider drop$"):
        call_command("poll_ftp", stdout=io.StringIO())

    with pytest.raises(CommandError, match=r"^FTP failed: "):
        call_command("poll_ftp", "--source", "Provider drop")


def test_the_orphan_sweep_never_takes_in_a_file_a_second_time(ftp_source, ftp_server):
    ftp_server.put("leads.csv", CSV)
    poll_ftp(ftp_source, wait=no_wait)

    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        swept = services.process_orphans()

    assert swept == 0
    assert Lead.objects.count() == 2
    assert RawSubmission.objects.count() == 1


def test_a_stored_file_read_by_the_ftp_channel_parser_fans_out_one_record_per_row(ftp_source):
    submission = services.receive(
        source=ftp_source,
        channel="ftp",
        body=CSV,
        content_type="text/csv",
        meta={"filename": "leads.csv"},
    )

    services.process_submission(submission.pk)

    children = RawSubmission.objects.filter(parent=submission).order_by("pk")
    assert [c.fields for c in children] == [
        {"Voornaam": "Jan", "Achternaam": "Jansen", "E-mailadres": "jan@example.nl",
         "Telefoon": "0612345678"},
        {"Voornaam": "Els", "Achternaam": "Bakker", "E-mailadres": "els@example.nl",
         "Telefoon": ""},
        {"Voornaam": "Piet", "Achternaam": "de Vries", "E-mailadres": "", "Telefoon": ""},
    ]  # fmt: skip
    # A drop folder never sends again: the row without contact waits for a person.
    assert [c.state for c in children] == ["processed", "processed", "quarantined"]
