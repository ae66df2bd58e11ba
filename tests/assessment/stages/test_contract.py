"""The stage contract: each stage reads what it declares and nothing else, in pipeline order."""

from __future__ import annotations

import copy
import inspect
from typing import Any

import pytest
from django.utils import timezone

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.assessment.context import (
    Context,
    DeviceReport,
    DuplicateResult,
    Enrichment,
    FraudResult,
    Readiness,
    Scores,
    Verdict,
    Verification,
)
from leadloop.assessment.models import EngagementRule, GradingRule, ScoringSettings
from leadloop.assessment.scoring import rules
from leadloop.assessment.stages import PIPELINE
from leadloop.assessment.stages.base import Stage
from leadloop.assessment.stages.dedup import find_duplicates
from leadloop.assessment.stages.device import inspect_device
from leadloop.assessment.stages.enrich import enrich
from leadloop.assessment.stages.fraud import RULE_WEIGHTS, screen_fraud
from leadloop.assessment.stages.readiness import judge_readiness
from leadloop.assessment.stages.score import score
from leadloop.assessment.stages.verify import verify
from leadloop.leads import services as leads_services
from leadloop.leads.models import Lead
from tests.factories.leads import make_lead, make_source

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)
# A lead field by any of its names (`source` and `source_id` are one field).
FIELD = {
    **{f.name: f.name for f in Lead._meta.concrete_fields},
    **{f.attname: f.name for f in Lead._meta.concrete_fields},
}
IDENTITY = {"id"}  # every stage may know which lead it looks at


@pytest.fixture
def nl_source(db):
    return make_source("Web NL", country="NL")


def _new_lead(source, **fields: Any) -> Lead:
    data = {"first_name": "Ann", "last_name": "de Vries", "email": "ann@bouw.nl", **fields}
    return leads_services.prepare_lead(data, source=source, by=SYSTEM)


def _context(lead: Lead, **meta: Any) -> Context:
    snapshot = rules.current()
    return Context(
        lead=lead,
        meta=meta,
        now=timezone.now(),
        rules=snapshot,
        policy=snapshot.policy_for(lead.source_id),
        is_new=lead.pk is None,
    )


def _names(declared: frozenset[str]) -> set[str]:
    return {FIELD[name] for name in declared}


# The contract itself.


def test_every_stage_reads_only_outputs_of_stages_before_it():
    names = [stage.name for stage in PIPELINE]

    for position, stage in enumerate(PIPELINE):
        assert set(stage.reads) <= set(names[:position]), stage.name
    assert len(set(names)) == len(names)


def test_every_stage_takes_exactly_the_outputs_it_declares():
    for stage in PIPELINE:
        parameters = inspect.signature(stage.run).parameters
        keyword_only = [
            name for name, p in parameters.items() if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]

        assert next(iter(parameters)) == "ctx", stage.name
        assert sorted(keyword_only) == sorted(stage.reads), stage.name
        assert len(parameters) == 1 + len(stage.reads), stage.name


def test_no_stage_reaches_into_the_stored_outputs():
    for stage in PIPELINE:
        source = inspect.getsource(inspect.getmodule(stage.run))

        assert "outputs" not in source, stage.name


def test_declared_lead_fields_are_lead_fields():
    for stage in PIPELINE:
        assert stage.lead_reads <= FIELD.keys(), stage.name
        assert stage.lead_writes <= FIELD.keys(), stage.name


@pytest.mark.parametrize("stored", [False, True], ids=["at intake", "reassessed"])
def test_each_stage_reads_and_changes_only_the_lead_fields_it_declares(
    nl_source, monkeypatch, stored
):
    GradingRule.objects.create(field="job_title", operator="contains", value="director", points=30)
    GradingRule.objects.create(field="email_kind", operator="equals", value="business", points=20)
    GradingRule.objects.create(field="employees", operator="gte", value="50", points=10)
    EngagementRule.objects.create(event="form_submitted", points=40)
    ScoringSettings.objects.create(pk=1, ready_grades="AB", ready_min_bant=1)
    fields = {
        "first_name": "ANN DE VRIES",
        "last_name": "",
        "email": "ann@bouw.nl",
        "phone": "0612345670",
        "street": "Keizersgracht 123-a",
        "postal_code": "1015cj",
        "city": "Amsterdam",
        "job_title": "Sales Director",
        "company_name": "Bouw BV",
        "extra": {"kvk": "12345678", "employees": "120"},
    }
    lead = make_lead(nl_source, **fields) if stored else _new_lead(nl_source, **fields)
    if stored:
        lead = Lead.objects.select_related("source").get(pk=lead.pk)
    ctx = _context(
        lead, ip="8.8.8.8", user_agent=CHROME, fingerprint="fp-1", time_to_submit_ms=9000
    )
    columns = [f.attname for f in Lead._meta.concrete_fields]
    original = Lead.__getattribute__
    read: set[str] = set()

    def recording(self: Lead, name: str) -> Any:
        if self is lead and name in FIELD:
            read.add(FIELD[name])
        return original(self, name)

    for stage in PIPELINE:
        before = {name: copy.deepcopy(getattr(lead, name)) for name in columns}
        read.clear()
        with monkeypatch.context() as patch:
            patch.setattr(Lead, "__getattribute__", recording)
            _found, output = stage(ctx)
        ctx.outputs[stage.name] = output
        changed = {FIELD[name] for name in columns if getattr(lead, name) != before[name]}

        assert read - IDENTITY <= _names(stage.lead_reads), stage.name
        assert changed <= _names(stage.lead_writes), stage.name


# The runner.


def test_the_runner_hands_a_stage_exactly_the_outputs_it_declared(nl_source, monkeypatch):
    seen: list[dict[str, Any]] = []

    def probe(ctx: Context, **earlier: Any) -> tuple[list[Any], str]:
        seen.append(earlier)
        return [], "probed"

    spy = Stage("probe", probe, reads=("verify", "fraud"))
    monkeypatch.setattr(assessment_services, "PIPELINE", (*PIPELINE[:3], spy, *PIPELINE[3:]))

    ctx = assessment_services.assess(_new_lead(nl_source))

    assert list(seen[0]) == ["verify", "fraud"]
    assert seen[0]["verify"] is ctx.outputs["verify"]
    assert seen[0]["fraud"] is ctx.outputs["fraud"]
    assert ctx.outputs["probe"] == "probed"
    assert list(ctx.outputs) == [
        "verify",
        "device",
        "fraud",
        "probe",
        "enrich",
        "dedup",
        "score",
        "readiness",
    ]


def test_a_failed_stage_has_no_output_and_its_dependants_run_without_it(nl_source, monkeypatch):
    def broken(ctx: Context, **earlier: Any) -> Any:
        raise ValueError("boom")

    failing = Stage("fraud", broken, reads=("verify", "device"))
    pipeline = tuple(failing if s.name == "fraud" else s for s in PIPELINE)
    monkeypatch.setattr(assessment_services, "PIPELINE", pipeline)
    lead = _new_lead(nl_source, first_name="Test", email="test@example.com")

    ctx = assessment_services.assess(lead, meta={"honeypot_filled": True})

    assert "fraud" not in ctx.outputs
    assert ctx.errors == [{"stage": "broken", "error": "ValueError: boom"}]
    assert (ctx.fraud_score, ctx.fraud_verdict) == (0, Verdict.ACCEPT)
    assert isinstance(ctx.outputs["readiness"], Readiness)
    assert lead.hold is None
    assert lead.assessment["fraud"] == {"score": 0, "verdict": "accept"}


# Each stage, called with exactly its declared inputs.


def test_verify_returns_the_normalised_parts(nl_source):
    lead = _new_lead(nl_source, email="info@bouw.nl", phone="0612345670", postal_code="1015cj")

    found, output = verify.run(_context(lead))

    assert output == Verification(
        {
            "phone": {"e164": "+31612345670", "type": "mobile", "region": "NL"},
            "email_kind": "role",
        }
    )
    assert output.email_kind == "role"
    assert lead.postal_code == "1015 CJ"
    assert [f.code for f in found] == ["phone_valid", "email_role", "postal_valid"]


def test_inspect_device_reports_the_request_without_touching_the_lead(nl_source):
    lead = _new_lead(nl_source)

    found, output = inspect_device.run(_context(lead, ip="10.0.0.7", user_agent="curl/8.0"))

    assert isinstance(output, DeviceReport)
    assert output["ip"] == "10.0.0.7"
    assert output.get("ip_public") is None
    assert output["is_bot"] is True
    assert [f.code for f in found] == ["ip_private", "bot"]
    assert lead.client_ip is None


def test_screen_fraud_weighs_the_earlier_outputs_it_is_given(nl_source):
    lead = _new_lead(nl_source, email="ann@wegwerp.example")
    verification = Verification({"email_kind": "disposable"})
    device = DeviceReport({"is_bot": True, "bot": "curl"})

    found, output = screen_fraud.run(_context(lead), verify=verification, device=device)

    points = RULE_WEIGHTS["disposable_email"][0] + RULE_WEIGHTS["bot_user_agent"][0]
    assert output == FraudResult(points, Verdict.REVIEW)
    assert output.held
    assert [f.code for f in found] == ["bot_user_agent", "disposable_email"]


def test_screen_fraud_without_earlier_outputs_judges_the_lead_alone(nl_source):
    lead = _new_lead(nl_source, email="ann@wegwerp.example")

    found, output = screen_fraud.run(_context(lead), verify=None, device=None)

    assert output == FraudResult(0, Verdict.ACCEPT)
    assert not output.held
    assert [f.code for f in found] == ["clean"]


def test_enrich_returns_what_it_appended(nl_source):
    lead = _new_lead(nl_source, phone="0612345670", email="ann@gmail.com")
    lead.country = ""

    found, output = enrich.run(_context(lead))

    assert isinstance(output, Enrichment)
    assert output.appended["country"]["value"] == "NL"
    assert lead.country == "NL"
    assert any(f.stage == "enrich" for f in found)


def test_find_duplicates_returns_the_match(nl_source):
    existing = make_lead(nl_source, email="ann@bouw.nl", first_name="Ann", last_name="de Vries")

    found, output = find_duplicates.run(_context(_new_lead(nl_source)))

    assert isinstance(output, DuplicateResult)
    assert output.match is not None
    assert output.match.lead_id == existing.pk
    assert output.candidates[0] == output.match
    assert [f.code for f in found] == ["duplicate"]


def test_score_grades_with_the_email_kind_it_is_given(nl_source):
    GradingRule.objects.create(field="email_kind", operator="equals", value="business", points=60)
    lead = _new_lead(nl_source)

    _found, business = score.run(_context(lead), verify=Verification({"email_kind": "business"}))
    _found, unknown = score.run(_context(lead), verify=None)

    assert business == Scores("A", 60, 0, None)
    assert unknown == Scores("D", 0, 0, None)
    assert lead.fit_grade == "D"


def test_judge_readiness_follows_the_scores_and_the_fraud_result_it_is_given(nl_source):
    ScoringSettings.objects.create(pk=1, ready_grades="A", ready_min_bant=0)
    lead = _new_lead(nl_source)
    ctx = _context(lead)

    _f, ready = judge_readiness.run(
        ctx, fraud=FraudResult(0, "accept"), score=Scores("A", 60, 0, None)
    )
    found, held = judge_readiness.run(
        ctx, fraud=FraudResult(50, Verdict.REVIEW), score=Scores("A", 60, 0, None)
    )
    _f, not_ready = judge_readiness.run(ctx, fraud=None, score=Scores("C", 10, 0, None))

    assert (ready.sales_ready, ready.met, ready.conditions) == (True, 1, 1)
    assert (held.sales_ready, held.met) == (False, 1)
    assert "held_for_fraud" in [f.code for f in found]
    assert (not_ready.sales_ready, not_ready.met) == (False, 0)


def test_judge_readiness_without_scores_uses_what_the_lead_holds(nl_source):
    ScoringSettings.objects.create(pk=1, ready_grades="B", ready_min_bant=0)
    lead = _new_lead(nl_source)
    lead.fit_grade = "B"

    _found, output = judge_readiness.run(_context(lead), fraud=None, score=None)

    assert output.sales_ready is True
    assert output.as_dict() == {
        "sales_ready": True,
        "summary": "Sales-ready: every condition of the rule is met.",
        "met": 1,
        "conditions": 1,
    }
