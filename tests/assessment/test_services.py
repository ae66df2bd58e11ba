"""Assessment at intake: verify, device, fraud, score and readiness, end to end."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.assessment.findings import render
from leadloop.intake import services as intake
from leadloop.intake.models import SubmissionState
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadHold, LeadStatus
from tests.factories.assessment import (
    make_block_entry,
    make_engagement_rule,
    make_grading_rule,
    set_scoring_settings,
    set_source_policy,
)
from tests.factories.leads import make_source

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


@pytest.fixture
def nl_source(db):
    return make_source("Web NL", country="NL")


def _submit(source, fields, **meta):
    submission = intake.receive(
        source=source,
        channel="http",
        body=json.dumps(fields).encode(),
        content_type="application/json",
        meta=meta,
    )
    return intake.process_submission(submission.pk)


def _codes(lead, stage=None):
    return [f["code"] for f in lead.assessment["findings"] if stage is None or f["stage"] == stage]


def _finding(lead, code):
    found = next(f for f in lead.assessment["findings"] if f["code"] == code)
    return {**found, "message": render(found)}


def test_contact_values_are_verified_and_normalised_with_the_originals_kept(nl_source):
    done = _submit(
        nl_source,
        {
            "first_name": "jan",
            "last_name": "de vries",
            "email": "jan@acme-bouw.nl",
            "phone": "06 12 34 56 78",
            "street": "Keizersgracht 123-a",
            "postal_code": "1015cj",
            "country": "NL",
            "vat": "NL004495445B01",
        },
    )

    lead = Lead.objects.get(pk=done.lead_id)
    assert (lead.first_name, lead.last_name) == ("Jan", "de Vries")
    assert (lead.street, lead.house_number, lead.postal_code) == (
        "Keizersgracht",
        "123-A",
        "1015 CJ",
    )
    assert lead.phone_e164 == "+31612345678"
    assert lead.assessment["raw"] == {
        "first_name": "jan",
        "last_name": "de vries",
        "street": "Keizersgracht 123-a",
        "house_number": "",
        "postal_code": "1015cj",
    }
    assert _finding(lead, "phone_valid")["message"] == "Phone is a valid Netherlands mobile number."
    assert lead.assessment["normalized"]["phone"] == {
        "e164": "+31612345678",
        "type": "mobile",
        "region": "NL",
    }
    assert (
        _finding(lead, "email_business")["message"] == "E-mail at acme-bouw.nl, a business domain."
    )
    assert "postal_valid" in _codes(lead, "verify")
    assert lead.assessment["normalized"]["vat_number"] == "NL004495445B01"
    assert lead.assessment["errors"] == []


@pytest.mark.parametrize(
    ("country", "code", "valid"),
    [
        ("NL", "1234 AB", True),
        ("NL", "0123 AB", False),
        ("BE", "1000", True),
        ("DE", "10115", True),
        ("DE", "1011", False),
        ("FR", "75008", True),
        ("GB", "sw1a1aa", True),
        ("US", "94105-1234", True),
        ("US", "ABCDE", False),
    ],
)
def test_postal_codes_are_checked_per_country(nl_source, country, code, valid):
    done = _submit(nl_source, {"email": "p@firm.example", "country": country, "postal_code": code})

    lead = Lead.objects.get(pk=done.lead_id)
    assert ("postal_valid" in _codes(lead)) is valid
    assert ("postal_invalid" in _codes(lead)) is (not valid)


def test_a_phone_refused_for_the_source_country_is_read_with_the_address_country(nl_source):
    done = _submit(nl_source, {"email": "hans@firma.de", "phone": "089 12345678", "country": "DE"})

    lead = Lead.objects.get(pk=done.lead_id)
    assert lead.phone_e164 == "+498912345678"
    assert "invalid.phone" not in lead.extra


def test_device_signals_name_the_ip_country_and_its_mismatch_with_the_address(nl_source):
    done = _submit(
        nl_source,
        {"email": "anna@bakkerij.nl", "phone": "+31612345670", "country": "NL"},
        ip="8.8.8.8",
        user_agent=CHROME,
    )

    lead = Lead.objects.get(pk=done.lead_id)
    device = lead.assessment["device"]
    assert device["ip_country"] == "US"
    assert device["browser"] == "Chrome"
    assert device["tor"] is None
    assert lead.client_ip == "8.8.8.8"
    assert _finding(lead, "country_mismatch")["message"] == "IP country US, address country NL."
    assert "country_mismatch" in _codes(lead, "fraud")


def test_a_bot_with_test_data_and_a_throwaway_address_is_rejected_with_its_reasons(nl_source):
    done = _submit(
        nl_source,
        {"first_name": "test", "last_name": "asdfgh", "email": "x@mailinator.com"},
        ip="8.8.4.4",
        user_agent="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    )

    assert done.state == SubmissionState.REJECTED
    assert done.lead_id is None
    assert Lead.objects.count() == 0
    messages = [r["message"] for r in done.reasons]
    assert "User agent of a bot: Googlebot." in messages
    assert all(r["code"] == "fraud" for r in done.reasons)


def test_a_middling_fraud_score_holds_the_lead_for_review(nl_source):
    done = _submit(nl_source, {"first_name": "test", "email": "t@yopmail.com"})

    lead = Lead.objects.get(pk=done.lead_id)
    assert lead.fraud_score == 65
    assert lead.hold == LeadHold.FRAUD_REVIEW
    assert lead.status == LeadStatus.NEW
    assert sorted(_codes(lead, "fraud")) == ["disposable_email", "test_data"]


def test_fraud_thresholds_are_per_source_and_a_zero_weight_switches_a_rule_off(nl_source):
    set_source_policy(nl_source, fraud_review_at=90, fraud_reject_at=101)
    set_scoring_settings(fraud_weights={"test_data": 0})

    done = _submit(nl_source, {"first_name": "test", "email": "t@yopmail.com"})

    lead = Lead.objects.get(pk=done.lead_id)
    assert lead.fraud_score == 30
    assert lead.hold is None
    assert "test_data" not in _codes(lead, "fraud")


def test_a_blocklisted_domain_is_rejected(nl_source):
    make_block_entry(kind="email_domain", value="spammer.nl")

    done = _submit(nl_source, {"first_name": "Piet", "email": "piet@spammer.nl"})

    assert done.state == SubmissionState.REJECTED
    assert done.reasons == [
        {
            "code": "fraud",
            "message": "E-mail domain spammer.nl is blocked.",
            "t": "E-mail domain %(value)s is blocked.",
            "p": {"value": "spammer.nl"},
        }
    ]


@pytest.mark.parametrize(
    ("kind", "value", "fields", "meta"),
    [
        ("ip", "145.97.0.0/16", {"email": "a@firma.nl"}, {"ip": "145.97.1.1"}),
        ("ip", "2a00:1450::/32", {"email": "a@firma.nl"}, {"ip": "2a00:1450::1"}),
        ("email_domain", "xn--bcher-kva.de", {"email": "piet@bücher.de"}, {}),
        ("phone", "+31612345670", {"email": "a@firma.nl", "phone": "06-12345670"}, {}),
    ],
)
def test_blocklisted_networks_idn_domains_and_phones_are_caught(
    nl_source, kind, value, fields, meta
):
    make_block_entry(kind=kind, value=value)

    done = _submit(nl_source, fields, **meta)

    assert done.state == SubmissionState.REJECTED
    assert done.reasons[0]["message"].endswith("is blocked.")


def test_an_address_outside_a_blocked_network_passes(nl_source):
    make_block_entry(kind="ip", value="145.97.0.0/16")

    done = _submit(nl_source, {"email": "a@firma.nl"}, ip="145.98.1.1")

    assert done.state == SubmissionState.PROCESSED


def test_velocity_counts_leads_from_one_public_ip_within_the_window(nl_source):
    with time_machine.travel(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC), tick=False):
        for n in range(4):
            last = _submit(nl_source, {"email": f"person{n}@firma{n}.nl"}, ip="145.97.1.1")

    lead = Lead.objects.get(pk=last.lead_id)
    assert _finding(lead, "velocity_ip")["message"] == (
        "4 leads with client ip 145.97.1.1 within 60 minutes."
    )
    first = Lead.objects.order_by("pk").first()
    assert "velocity_ip" not in _codes(first)


def test_grading_rules_give_the_fit_grade_and_explain_each_point(nl_source):
    make_grading_rule(field="job_title", operator="contains", value="director", points=30)
    make_grading_rule(field="country", operator="in", value="NL, BE", points=20)
    make_grading_rule(field="email_kind", operator="equals", value="free", points=-25)

    done = _submit(
        nl_source,
        {"email": "eva@bouwbedrijf.nl", "job_title": "Sales Director", "country": "NL"},
    )

    lead = Lead.objects.get(pk=done.lead_id)
    assert lead.fit_grade == "B"
    assert lead.assessment["fit_points"] == 50
    rules = [render(f) for f in lead.assessment["findings"] if f["code"] == "fit_rule"]
    assert rules == [
        "+30 job title contains 'director'.",
        "+20 country is one of 'NL,BE'.",
    ]


def test_readiness_makes_a_lead_sales_ready_when_the_agreed_rule_is_met(nl_source):
    make_grading_rule(field="job_title", operator="contains", value="director", points=70)
    set_scoring_settings(ready_grades="AB", ready_min_bant=3)
    bant = {"bant_budget": "met", "bant_authority": "met", "bant_need": "met"}

    ready = _submit(nl_source, {"email": "a@bouw.nl", "job_title": "Director", **bant})
    not_ready = _submit(nl_source, {"email": "b@bouw.nl", "job_title": "Director"})

    ready_lead = Lead.objects.get(pk=ready.lead_id)
    assert ready_lead.status == LeadStatus.SALES_READY
    assert ready_lead.assessment["readiness"]["sales_ready"] is True
    nurturing = Lead.objects.get(pk=not_ready.lead_id)
    assert nurturing.status == LeadStatus.NURTURING
    assert _finding(nurturing, "bant_not_met")["message"] == (
        "0 of 4 BANT criteria met (not yet: Budget, Authority, Need, Time); the rule asks 3."
    )
    created = Activity.objects.get(lead=ready_lead, kind=ActivityKind.CREATED)
    assert created.data["status"] == LeadStatus.SALES_READY


def test_engagement_fades_with_its_half_life_and_once_only_rules_count_once(nl_source):
    make_engagement_rule(event="email_opened", points=10, is_repeatable=False)
    make_engagement_rule(event="page_visit", points=20, is_repeatable=True)
    set_scoring_settings(engagement_half_life_days=10)
    start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        done = _submit(nl_source, {"email": "z@bouw.nl"})
        lead = Lead.objects.get(pk=done.lead_id)
        for kind in ("email_opened", "email_opened", "page_visit", "page_visit"):
            assessment_services.log_engagement(lead, kind=kind, by=SYSTEM)

    lead.refresh_from_db()
    assert lead.engagement_score == 50
    with time_machine.travel(start + dt.timedelta(days=10), tick=False):
        assessment_services.reassess_lead(lead)
    lead.refresh_from_db()
    assert lead.engagement_score == 25


def test_a_failing_stage_is_recorded_and_the_lead_is_still_stored(nl_source, monkeypatch):
    from leadloop.assessment import services

    def broken(ctx):
        raise ValueError("boom")

    monkeypatch.setattr(services, "PIPELINE", (broken, *services.PIPELINE))

    done = _submit(nl_source, {"email": "still@here.nl"})

    assert done.state == SubmissionState.PROCESSED
    lead = Lead.objects.get(pk=done.lead_id)
    assert lead.assessment["errors"] == [{"stage": "broken", "error": "ValueError: boom"}]
    assert "email_business" in _codes(lead)


def test_priority_ranks_grade_and_engagement_and_is_explained(nl_source):
    make_grading_rule(field="job_title", operator="contains", value="ceo", points=80)

    top = _submit(nl_source, {"email": "ceo@bouw.nl", "job_title": "CEO"})
    low = _submit(nl_source, {"email": "intern@bouw.nl", "job_title": "Intern"})

    top_lead, low_lead = Lead.objects.get(pk=top.lead_id), Lead.objects.get(pk=low.lead_id)
    assert top_lead.priority > low_lead.priority
    assert top_lead.assessment["priority"]["grade"] == 400
    assert low_lead.assessment["priority"]["grade"] == 50


@pytest.mark.parametrize(
    "name",
    ["asdf", "qwerty", "xxxjjj", "bcdfgh", "j4n", "Aaaron"],
)
def test_keyboard_mash_names_are_spotted(name):
    from leadloop.assessment.stages.fraud import looks_mashed

    assert looks_mashed(name)


@pytest.mark.parametrize(
    "name", ["Jan", "de Vries", "Strzelecki", "Schwarzkopf", "Ng", "Øyvind", "李", "Nguyễn"]
)
def test_real_names_are_not_called_mashed(name):
    from leadloop.assessment.stages.fraud import looks_mashed

    assert not looks_mashed(name)


def test_the_hourly_refresh_lets_engagement_fade_and_lowers_the_priority(nl_source):
    from leadloop.core.schedule import SCHEDULE

    make_engagement_rule(event="form_submitted", points=40)
    set_scoring_settings(engagement_half_life_days=7)
    start = dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        lead = Lead.objects.get(pk=_submit(nl_source, {"email": "fade@bouw.nl"}).lead_id)
    assert (lead.engagement_score, lead.priority) == (40, 180)

    changed = assessment_services.refresh_scores(now=start + dt.timedelta(days=7))
    unchanged = assessment_services.refresh_scores(now=start + dt.timedelta(days=7))

    lead.refresh_from_db()
    assert (changed, unchanged) == (1, 0)
    assert (lead.engagement_score, lead.priority) == (20, 140)
    assert "refresh_scores" in {spec.name for spec in SCHEDULE}


def test_the_web_app_loads_the_assessment_data_before_the_first_request(monkeypatch):
    import importlib

    from leadloop.assessment.stages import device

    monkeypatch.setattr(device, "_asn_db", None)
    device._browser.cache_clear()

    importlib.reload(importlib.import_module("leadloop.wsgi"))

    assert device._asn_db is not None
    assert device._browser.cache_info().currsize == 1
