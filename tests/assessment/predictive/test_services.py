"""The predictive score: history from a real CSV import, the leakage check, training, scoring,
the single-lead prediction at intake, and the `leadloop scoring` command."""

from __future__ import annotations

import csv
import io
import json
import random
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive import services as predictive
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake.imports.bulk import import_file
from leadloop.leads.models import Activity, ActivityKind, ChannelKind, Lead, LeadStatus
from tests.conftest import shared_data_path
from tests.factories.leads import make_lead, make_source

LEAK = "extra.Contract number"
SENIOR = ("Managing director", "Owner", "Head of purchasing")
JUNIOR = ("Intern", "Assistant", "Student")


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    # The active model is cached per process; a rolled-back test may leave one behind.
    predictive.invalidate()
    yield
    predictive.invalidate()


@pytest.fixture
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return settings.VAR_DIR


@pytest.fixture
def crm(db):
    return make_source("CRM history", kind=ChannelKind.IMPORT)


def history_csv(path: Path, *, closed: int, open_leads: int = 0, seed: int = 7) -> Path:
    """Closed leads whose outcome follows seniority and country, noisily; a contract number is
    filled in for won leads only (the planted leak); open leads have no status."""
    rng = random.Random(seed)
    rows = [
        ["First name", "Last name", "Email", "Job title", "Country", "Status", "Order value",
         "Contract number"],
    ]  # fmt: skip
    for i in range(closed + open_leads):
        senior = rng.random() < 0.5
        title = rng.choice(SENIOR if senior else JUNIOR)
        country = rng.choice(("NL", "NL", "BE", "US"))
        chance = (0.75 if senior else 0.2) - (0.1 if country == "US" else 0.0)
        status, value, contract = "", "", ""
        if i < closed:
            won = rng.random() < chance
            status = "won" if won else rng.choice(("lost", "disqualified"))
            value = f"{rng.randrange(1_000, 20_000)}.00" if won else ""
            contract = f"CN-{i:05d}" if won else ""
        rows.append(
            [f"Ann{i}", f"Lee{i}", f"ann{i}@lee{i}.nl", title, country, status, value, contract]
        )
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return path


def import_history(crm, marketing, tmp_path, **kwargs):
    report = import_file(history_csv(tmp_path / "history.csv", **kwargs), source=crm, by=marketing)
    assert report.rejected == 0
    return report


def test_import_with_an_outcome_column_creates_closed_leads(crm, marketing, var_dir, tmp_path):
    path = tmp_path / "outcomes.csv"
    path.write_text(
        "Email,Status,Order value\n"
        "a@a.nl,Won,1250.50\n"
        "b@b.nl,lost,\n"
        "c@c.nl,Gediskwalificeerd,\n"
        "d@d.nl,,\n"
        "e@e.nl,Negotiating,\n",
        encoding="utf-8",
    )

    report = import_file(path, source=crm, by=marketing)

    assert (report.created, report.rejected, report.set_aside) == (5, 0, 1)
    assert report.mapping["Status"] == "status"
    assert report.mapping["Order value"] == "order_value"
    leads = {lead.email: lead for lead in Lead.objects.all()}
    assert {email: lead.status for email, lead in leads.items()} == {
        "a@a.nl": LeadStatus.WON,
        "b@b.nl": LeadStatus.LOST,
        "c@c.nl": LeadStatus.DISQUALIFIED,
        "d@d.nl": LeadStatus.NEW,
        "e@e.nl": LeadStatus.NEW,
    }
    assert str(leads["a@a.nl"].order_value) == "1250.50"
    assert leads["a@a.nl"].closed_at is not None
    assert leads["d@d.nl"].closed_at is None
    assert leads["e@e.nl"].extra == {"invalid.status": "Negotiating"}
    created = Activity.objects.get(lead=leads["a@a.nl"], kind=ActivityKind.CREATED)
    assert created.data["status"] == "won"
    assert "status" not in Activity.objects.get(lead=leads["d@d.nl"]).data


def test_training_refuses_with_too_little_history(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=40)

    with pytest.raises(ValidationFailed) as caught:
        predictive.train(by=marketing)

    assert caught.value.detail.startswith("Too little history to learn from: 40 closed leads")
    assert PredictiveModel.objects.count() == 0


def test_training_refuses_when_one_outcome_is_too_rare(crm, marketing, var_dir, tmp_path):
    path = tmp_path / "all-lost.csv"
    rows = ["Email,Status"] + [f"x{i}@x{i}.nl,{'won' if i < 10 else 'lost'}" for i in range(80)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_file(path, source=crm, by=marketing)

    with pytest.raises(ValidationFailed) as caught:
        predictive.train(by=marketing)

    assert "80 closed leads (10 won, 70 lost or disqualified)" in caught.value.detail
    assert PredictiveModel.objects.count() == 0


def test_trains_on_an_imported_history_and_predicts_above_chance(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=240)

    model = predictive.train(by=marketing)

    report = model.report
    assert model.is_active is True
    assert model.trained_by == marketing
    assert model.training_size == report["training_size"] == 240
    assert (
        report["class_counts"]["won"]
        + report["class_counts"]["lost"]
        + report["class_counts"]["disqualified"]
        == 240
    )
    assert (report["train_rows"], report["test_rows"]) == (180, 60)
    assert model.auc == report["auc"]
    assert model.auc > 0.7
    assert [row["decile"] for row in report["lift"]] == list(range(1, 11))
    assert sum(row["leads"] for row in report["lift"]) == 60
    assert report["lift"][-1]["captured"] == 1.0
    assert sum(row["leads"] for row in report["calibration"]) == 60
    texts = [predictive.factor_text(f, report) for f in report["factors"]]
    assert any(t.startswith("Job title contains") and "raises the chance" in t for t in texts)
    assert model.included_fields == []


def test_the_planted_leakage_field_is_left_out_and_named(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=240)

    model = predictive.train(by=marketing)

    report = model.report
    assert [item["field"] for item in report["excluded"]] == [LEAK]
    assert report["excluded"][0]["flag"] == "predicts_alone"
    assert report["excluded"][0]["filled_won"] == 1.0
    assert report["excluded"][0]["filled_other"] == 0.0
    assert LEAK not in report["fields_used"]
    assert "job_title" in report["fields_used"]
    assert report["warnings"] == []
    assert predictive.flag_reason(report["excluded"][0]).startswith(
        "On its own it predicts the outcome almost perfectly"
    )


def test_a_leaky_field_included_on_request_is_used_and_looks_too_good(
    crm, marketing, var_dir, tmp_path
):
    import_history(crm, marketing, tmp_path, closed=240)

    model = predictive.train(by=marketing, include=[LEAK])

    report = model.report
    assert model.included_fields == [LEAK]
    assert report["excluded"] == []
    assert [(i["field"], i["included"]) for i in report["included"]] == [(LEAK, True)]
    assert LEAK in report["fields_used"]
    assert model.auc >= 0.97
    codes = [w["code"] for w in report["warnings"]]
    assert codes == ["too_good", "included"]
    assert predictive.warning_text(report["warnings"][0]).startswith("Too good to be true")


def test_an_unknown_field_to_include_is_refused(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=120)

    with pytest.raises(ValidationFailed) as caught:
        predictive.train(by=marketing, include=["extra.nope"])

    assert caught.value.errors == {"include": ["extra.nope"]}
    assert PredictiveModel.objects.count() == 0


def test_a_new_model_replaces_the_active_one(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=120)
    first = predictive.train(by=marketing)

    second = predictive.train(by=marketing, include=[LEAK])

    first.refresh_from_db()
    assert first.is_active is False
    assert second.is_active is True
    assert list(PredictiveModel.objects.filter(is_active=True)) == [second]


def test_scoring_writes_a_chance_to_every_open_lead_and_none_to_closed_ones(
    crm, marketing, var_dir, tmp_path
):
    import_history(crm, marketing, tmp_path, closed=200, open_leads=30)

    model, scored = predictive.train_and_score(by=marketing)

    assert scored == 30
    open_leads = list(Lead.objects.filter(status=LeadStatus.NEW))
    assert len(open_leads) == 30
    assert all(0.0 < lead.predictive_score < 1.0 for lead in open_leads)
    assert not Lead.objects.filter(status__in=predictive.CLOSED, predictive_score__isnull=False)
    for lead in open_leads:
        assert predictive.predict_for(lead) == pytest.approx(lead.predictive_score, abs=1e-3)
    senior = [lead.predictive_score for lead in open_leads if lead.job_title in SENIOR]
    junior = [lead.predictive_score for lead in open_leads if lead.job_title in JUNIOR]
    assert sum(senior) / len(senior) > sum(junior) / len(junior)
    assert model.report["training_size"] == 200


def test_merged_leads_are_not_learned_from(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=120)
    survivor = Lead.objects.filter(status=LeadStatus.WON).first()
    merged = Lead.objects.filter(status=LeadStatus.LOST).first()
    Lead.objects.filter(pk=merged.pk).update(merged_into=survivor)

    model = predictive.train(by=marketing)

    assert model.training_size == 119


def test_predict_for_is_none_without_a_model_and_scores_a_new_unsaved_lead(
    crm, marketing, var_dir, tmp_path
):
    unsaved = Lead(source=crm, job_title="Managing director", country="NL", extra={})
    assert predictive.predict_for(unsaved) is None
    import_history(crm, marketing, tmp_path, closed=120)

    predictive.train_and_score(by=marketing)

    chance = predictive.predict_for(unsaved)
    assert chance is not None
    assert 0.0 < chance < 1.0


def test_behaviour_before_the_first_contact_counts_and_after_it_not(source):
    lead = make_lead(source, email="a@b.nl")
    from leadloop.leads import services as leads_services

    leads_services.record_activity(lead, kind=ActivityKind.PAGE_VISIT, by=SYSTEM)
    leads_services.record_activity(lead, kind=ActivityKind.CALL, by=SYSTEM)
    leads_services.record_activity(lead, kind=ActivityKind.PAGE_VISIT, by=SYSTEM)
    leads_services.record_activity(lead, kind=ActivityKind.EMAIL_OPENED, by=SYSTEM)

    counts = predictive.activity_counts([lead.pk])

    assert counts == {lead.pk: {"page_visit": 1, "call": 1}}


def test_a_sales_rep_cannot_train(crm, rep, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=120)

    with pytest.raises(NotAllowed):
        predictive.train(by=rep)

    assert PredictiveModel.objects.count() == 0


def test_naughty_strings_in_lead_fields_do_not_break_features_or_prediction(
    crm, marketing, var_dir, tmp_path
):
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        strings = json.load(handle)
    import_history(crm, marketing, tmp_path, closed=120)
    predictive.train_and_score(by=marketing)

    chances = [
        predictive.predict_for(
            Lead(
                source=crm,
                job_title=value[:200],
                country=value[:2],
                utm_source=value[:200],
                extra={"Contract number": value, value[:60]: value, "n": {"nested": [value]}},
            )
        )
        for value in strings
    ]

    assert len(chances) == len(strings)
    assert all(chance is not None and 0.0 < chance < 1.0 for chance in chances)


def test_cli_refuses_too_little_history_with_a_message(db):
    # A CommandError is what `leadloop` prints and exits 1 with (Django's run_from_argv); it is
    # raised here rather than run through cli.main, which closes the test's connection.
    with pytest.raises(CommandError, match="Too little history to learn from: 0 closed leads"):
        call_command("scoring", "train")

    assert PredictiveModel.objects.count() == 0


def test_cli_trains_reports_the_exclusion_and_scores(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=200, open_leads=10)
    out = io.StringIO()

    call_command("scoring", "train", stdout=out)

    text = out.getvalue()
    model = PredictiveModel.objects.get(is_active=True)
    assert text.startswith(f"Model {model.pk}: AUC {model.auc:.3f} on 50 held-out leads")
    assert f"  {LEAK}: On its own it predicts the outcome almost perfectly" in text
    assert text.rstrip().endswith("Scored 10 open leads.")
    assert model.trained_by is None


def test_cli_includes_a_field_on_request_and_answers_json(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=200)
    out = io.StringIO()

    call_command("scoring", "train", "--include", LEAK, "--json", stdout=out)

    data = json.loads(out.getvalue())
    assert data["report"]["included"][0]["field"] == LEAK
    assert [w["code"] for w in data["report"]["warnings"]] == ["too_good", "included"]
    assert PredictiveModel.objects.get(pk=data["model_id"]).included_fields == [LEAK]


def test_cli_apply_scores_open_leads_with_the_active_model(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=120, open_leads=5)
    predictive.train(by=marketing)
    out = io.StringIO()

    call_command("scoring", "apply", stdout=out)

    assert out.getvalue().strip() == "Scored 5 open leads."
    assert Lead.objects.filter(predictive_score__isnull=False).count() == 5


def test_cli_unknown_include_is_an_error(crm, marketing, var_dir, tmp_path):
    import_history(crm, marketing, tmp_path, closed=120)

    with pytest.raises(CommandError) as caught:
        call_command("scoring", "train", "--include", "extra.nope", stdout=io.StringIO())

    assert str(caught.value).startswith("Unknown field to include: extra.nope.")


def test_the_import_screens_offer_the_outcome_column_and_import_it(
    crm, marketing, var_dir, tmp_path
):
    from leadloop.intake.imports import services as import_batches

    upload = io.BytesIO(b"E-mail,Uitkomst,Orderwaarde\na@a.nl,gewonnen,99.95\nb@b.nl,verloren,\n")
    batch = import_batches.store_upload(upload, filename="h.csv", source=crm, by=marketing)

    suggested = import_batches.preview_batch(batch).suggested
    import_batches.start_batch(batch, fields=suggested, by=marketing)
    import_batches.run_batch(batch.pk)

    assert suggested == {"E-mail": "email", "Uitkomst": "status", "Orderwaarde": "order_value"}
    assert sorted(Lead.objects.values_list("email", "status", "order_value")) == [
        ("a@a.nl", LeadStatus.WON, Decimal("99.95")),
        ("b@b.nl", LeadStatus.LOST, None),
    ]


def test_a_stored_model_that_cannot_be_loaded_scores_nothing_instead_of_failing(
    crm, marketing, var_dir, tmp_path
):
    import_history(crm, marketing, tmp_path, closed=120, open_leads=3)
    model = predictive.train(by=marketing)
    PredictiveModel.objects.filter(pk=model.pk).update(blob=b"not a pickle")
    predictive.invalidate()

    chance = predictive.predict_for(Lead(source=crm, job_title="Owner", extra={}))
    scored = predictive.score_all_leads()

    assert chance is None
    assert scored == 0
    assert not Lead.objects.filter(predictive_score__isnull=False).exists()
