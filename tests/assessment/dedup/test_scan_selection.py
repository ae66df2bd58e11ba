"""`duplicates find` on part of the database, with the sender's references in the export, and
no lead missed because its name key was never computed."""

from __future__ import annotations

import csv
import json

import pytest
from django.core.management import CommandError, call_command

from leadloop.assessment.dedup.matching import find_duplicate_pairs, iter_scan
from leadloop.assessment.models import DuplicatePair
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.leads import make_lead, make_source


@pytest.fixture
def sources(db):
    return make_source("Fair import", kind=ChannelKind.IMPORT), make_source("Website")


def _twins(source, other, *, ref: str, email: str) -> tuple[Lead, Lead]:
    first = make_lead(source, first_name="Ann", last_name=f"Smit {ref}", email=email,
                      external_ref=ref)  # fmt: skip
    second = make_lead(other, first_name="Ann", last_name=f"Smit {ref}", email=email,
                       external_ref=f"{ref}-b")  # fmt: skip
    return first, second


def test_source_selects_the_walk_and_within_keeps_pairs_inside_it(sources, tmp_path, capsys):
    fair, web = sources
    inside = _twins(fair, fair, ref="F1", email="ann.f1@example.nl")
    across = _twins(fair, web, ref="F2", email="ann.f2@example.nl")
    _twins(web, web, ref="W1", email="ann.w1@example.nl")
    DuplicatePair.objects.all().delete()

    call_command("duplicates", "find", "--source", fair.name, "--json")
    selected = json.loads(capsys.readouterr().out)
    pairs = {frozenset((p.lead_id, p.other_id)) for p in DuplicatePair.objects.all()}
    DuplicatePair.objects.all().delete()
    target = tmp_path / "fair.csv"
    call_command("duplicates", "find", "--source", fair.name, "--within", "--export", str(target))
    rows = list(csv.DictReader(target.open(encoding="utf-8")))

    assert selected["leads"] == 3  # the fair's leads
    assert pairs == {frozenset(p.pk for p in inside), frozenset(p.pk for p in across)}
    assert [(r["lead_ref"], r["other_ref"]) for r in rows] == [("F1-b", "F1")]
    assert {r["lead_source"] for r in rows} | {r["other_source"] for r in rows} == {fair.name}


def test_leads_without_a_name_key_get_one_before_the_scan(sources, capsys):
    fair, _web = sources
    # Same name, nothing else shared: only the name block can bring them together.
    make_lead(fair, first_name="Bram", last_name="Kok", email="bram@one.example")
    make_lead(fair, first_name="Bram", last_name="Kok", email="bram@two.example")
    DuplicatePair.objects.all().delete()
    Lead.objects.update(name_key=None)

    blind = list(iter_scan(min_score=0.0))
    result, found = find_duplicate_pairs(min_score=0.0)

    assert blind == []
    assert result.keys_filled == 2
    assert set(Lead.objects.values_list("name_key", flat=True)) == {"kok|b"}
    assert len(found) == 1


def test_leads_without_an_address_key_get_one_before_the_scan(sources):
    fair, _web = sources
    make_lead(fair, first_name="Bram", last_name="Kok", street="Dorpsstraat", house_number="12")
    Lead.objects.update(address_key=None, street_name_key=None, house_name_key=None)

    find_duplicate_pairs()

    assert Lead.objects.get().address_key == "12|dorps"
    assert Lead.objects.get().street_name_key == "dorps|k"
    assert Lead.objects.get().house_name_key == "12|bra"


def test_the_cli_says_it_computed_missing_keys(sources, capsys):
    fair, _web = sources
    make_lead(fair, first_name="Bram", last_name="Kok", email="bram@one.example")
    Lead.objects.update(name_key=None)

    call_command("duplicates", "find")

    assert "Computed the name key of 1 leads first" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--source", "Nope"], "No source named Nope"),
        (["--campaign", "Nope"], "No campaign named Nope"),
        (["--within"], "--within needs a selection"),
    ],
)
def test_unknown_selections_are_errors(sources, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("duplicates", "find", *args)


def test_status_and_dates_select(sources, capsys):
    fair, _web = sources
    _twins(fair, fair, ref="S1", email="s1@example.nl")

    call_command("duplicates", "find", "--status", "won", "--json")
    none_won = json.loads(capsys.readouterr().out)
    call_command("duplicates", "find", "--created-from", "2000-01-01", "--json")
    since = json.loads(capsys.readouterr().out)

    assert (none_won["leads"], none_won["pairs"]) == (0, 0)
    assert since["leads"] == 2
