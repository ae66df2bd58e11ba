"""`leadloop privacy`: export to a file, erase with --yes, objections, retention rules."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from leadloop.leads.models import Lead
from leadloop.privacy.models import RetentionRule
from tests.privacy.conftest import PERSON


def test_export_writes_the_document_to_a_file(person, tmp_path, capsys):
    target = tmp_path / "person.json"

    call_command("privacy", "export", "--email", PERSON["email"], "-o", str(target))

    doc = json.loads(target.read_text(encoding="utf-8"))
    assert [lead["id"] for lead in doc["leads"]] == [person.lead.pk, person.second.pk]
    assert "Wrote 2 leads, 2 submissions" in capsys.readouterr().out


def test_erase_without_yes_changes_nothing(person):
    with pytest.raises(CommandError, match="--yes"):
        call_command("privacy", "erase", "--lead", str(person.lead.pk))

    assert Lead.objects.get(pk=person.lead.pk).erased_at is None


def test_erase_with_yes_erases(person, capsys):
    call_command("privacy", "erase", "--email", PERSON["email"], "--yes", "--json")

    assert json.loads(capsys.readouterr().out)["counts"]["leads"] == 2
    assert Lead.objects.get(pk=person.second.pk).erased_at is not None


def test_object_from_the_cli(person, capsys):
    call_command(
        "privacy", "object", "--lead", str(person.lead.pk), "--processing", "--source", "letter"
    )

    lead = Lead.objects.get(pk=person.lead.pk)
    assert (lead.processing_objected_at is not None, lead.objection_source) == (True, "letter")


def test_retention_set_list_and_dry_run(db, capsys):
    call_command("privacy", "retention", "set", "submission", "quarantined", "30")
    assert "quarantined" in capsys.readouterr().out  # set prints the rules as they now are
    call_command("privacy", "retention", "list", "--json")
    listed = json.loads(capsys.readouterr().out)
    call_command("privacy", "retention", "apply", "--dry-run", "--json")
    report = json.loads(capsys.readouterr().out)

    assert RetentionRule.objects.get(target="submission", state="quarantined").keep_days == 30
    assert {"target": "submission", "state": "quarantined", "keep_days": 30, "is_active": True} in (
        listed
    )
    assert (report["dry_run"], report["total"]) == (True, 0)


def test_a_lookup_with_two_keys_is_refused(person):
    with pytest.raises(CommandError, match="exactly one"):
        call_command("privacy", "export", "--email", PERSON["email"], "--lead", "1")
