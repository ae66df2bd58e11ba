"""The review queue, assess-again, the lead page's findings, and the assessment API and CLI."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.assessment.scoring import services as config
from leadloop.intake import services as intake
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadHold, LeadStatus
from tests.factories.leads import make_lead


def _held_lead(source, **fields):
    body = {"first_name": "test", "email": "t@yopmail.com", **fields}
    submission = intake.receive(
        source=source,
        channel="http",
        body=json.dumps(body).encode(),
        content_type="application/json",
    )
    done = intake.process_submission(submission.pk)
    lead = Lead.objects.get(pk=done.lead_id)
    assert lead.hold == LeadHold.FRAUD_REVIEW
    return lead


def test_accepting_a_held_lead_releases_it_by_the_readiness_rule(
    logged_in_client, marketing, source
):
    lead = _held_lead(source)
    client = logged_in_client(marketing)

    page = client.get("/assessment/review/")
    response = client.post(f"/assessment/review/{lead.pk}/", {"decision": "accept"})

    assert page.status_code == 200
    assert f"#{lead.pk}" in page.content.decode()
    assert "Throwaway e-mail domain yopmail.com." in page.content.decode()
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.hold is None
    assert lead.status == LeadStatus.NURTURING
    reviewed = Activity.objects.get(lead=lead, kind=ActivityKind.REVIEWED)
    assert reviewed.data == {"hold": "fraud_review", "decision": "accept"}
    # Assessing again later does not put the hold back.
    client.post(f"/assessment/leads/{lead.pk}/reassess/")
    lead.refresh_from_db()
    assert lead.hold is None


def test_rejecting_a_held_lead_disqualifies_it(api_client_for, admin, source):
    lead = _held_lead(source)

    response = api_client_for(admin).post(
        f"/api/v1/assessment/review/{lead.pk}",
        {"decision": "reject", "note": "bot run"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == LeadStatus.DISQUALIFIED
    lead.refresh_from_db()
    assert (lead.hold, lead.status) == (None, LeadStatus.DISQUALIFIED)


def test_a_lead_not_on_hold_cannot_be_reviewed(api_client_for, admin, source):
    lead = make_lead(source, email="calm@firma.nl")

    response = api_client_for(admin).post(
        f"/api/v1/assessment/review/{lead.pk}",
        {"decision": "accept"},
        content_type="application/json",
    )

    assert response.status_code == 409
    assert response["Content-Type"].startswith("application/problem+json")
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.REVIEWED).exists()


def test_partners_and_other_teams_cannot_see_or_decide_held_leads(
    logged_in_client, api_client_for, partner_user, rep, source
):
    lead = _held_lead(source)

    page = logged_in_client(partner_user).get("/assessment/review/")
    api = api_client_for(rep).post(
        f"/api/v1/assessment/review/{lead.pk}",
        {"decision": "accept"},
        content_type="application/json",
    )
    queue = api_client_for(rep).get("/api/v1/assessment/review")

    assert page.status_code == 404
    assert api.status_code == 404
    assert queue.json() == []
    lead.refresh_from_db()
    assert lead.hold == LeadHold.FRAUD_REVIEW


def test_the_lead_page_explains_the_score_and_escapes_what_it_quotes(
    logged_in_client, admin, source
):
    lead = _held_lead(source, company_name="<img src=x onerror=alert(1)>", job_title="<b>x</b>")

    html = logged_in_client(admin).get(f"/leads/{lead.pk}/").content.decode()

    assert "Why this lead scores as it does" in html
    assert "Test values: Test." in html
    assert "Tor, VPN, proxy" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_lead_page_shows_findings_in_dutch(logged_in_client, admin, source):
    lead = _held_lead(source)
    client = logged_in_client(admin)

    html = client.get(f"/leads/{lead.pk}/", HTTP_ACCEPT_LANGUAGE="nl").content.decode()

    assert "Testwaarden: Test." in html


def test_assess_again_applies_a_new_rule_and_logs_what_changed(logged_in_client, marketing, source):
    lead = make_lead(source, email="boss@firma.nl", job_title="Director")  # assessed at creation
    config.create_grading_rule(
        by=marketing, field="job_title", operator="contains", value="director", points=70
    )
    config.update_scoring_settings(by=marketing, ready_grades="A", ready_min_bant=0)

    response = logged_in_client(marketing).post(f"/assessment/leads/{lead.pk}/reassess/")

    assert response.status_code == 302
    lead.refresh_from_db()
    assert (lead.fit_grade, lead.status) == ("A", LeadStatus.SALES_READY)
    assessed = Activity.objects.get(lead=lead, kind=ActivityKind.ASSESSED)
    assert assessed.data["changes"]["fit_grade"] == {"old": "", "new": "A"}


def test_the_api_reads_a_leads_assessment_only_for_those_who_see_it(
    api_client_for, admin, other_rep, source
):
    lead = _held_lead(source)

    mine = api_client_for(admin).get(f"/api/v1/assessment/leads/{lead.pk}")
    theirs = api_client_for(other_rep).get(f"/api/v1/assessment/leads/{lead.pk}")

    assert mine.status_code == 200
    body = mine.json()
    assert body["fraud_score"] == 65
    assert body["hold"] == "fraud_review"
    assert {f["code"] for f in body["findings"] if f["stage"] == "fraud"} == {
        "test_data",
        "disposable_email",
    }
    assert theirs.status_code == 404


def test_an_engagement_event_over_the_api_raises_the_score(api_client_for, admin, source):
    from tests.factories.assessment import make_engagement_rule

    make_engagement_rule(event="email_clicked", points=15)
    lead = make_lead(source, email="click@firma.nl")

    response = api_client_for(admin).post(
        f"/api/v1/assessment/leads/{lead.pk}/events",
        {"kind": "email_clicked", "data": {"url": "https://example.com/offer"}},
        content_type="application/json",
    )
    refused = api_client_for(admin).post(
        f"/api/v1/assessment/leads/{lead.pk}/events",
        {"kind": "call"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["engagement_score"] == 15
    assert refused.status_code == 422
    assert Activity.objects.filter(lead=lead, kind=ActivityKind.CALL).count() == 0


def test_the_cli_reassesses_the_leads_it_is_told(source):
    first = make_lead(source, email="a@firma.nl")
    second = make_lead(source, email="b@firma.nl")
    before = {first.pk: first.assessed_at, second.pk: second.assessed_at}
    out = StringIO()

    call_command("reassess", "--id", str(first.pk), "--json", stdout=out)

    assert json.loads(out.getvalue()) == {"assessed": 1}
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.assessed_at > before[first.pk]
    assert second.assessed_at == before[second.pk]


def test_the_cli_refuses_to_guess_which_leads(source):
    with pytest.raises(CommandError, match="Say which leads"):
        call_command("reassess")
    with pytest.raises(CommandError, match="No lead with id 999999"):
        call_command("reassess", "--id", "999999")


def test_a_person_entering_a_lead_is_not_held_for_fraud_signals(logged_in_client, admin, source):
    response = logged_in_client(admin).post(
        "/leads/new/",
        {"source": source.pk, "first_name": "test", "email": "t@yopmail.com", "currency": "EUR"},
    )

    assert response.status_code == 302
    lead = Lead.objects.get(email="t@yopmail.com")
    assert lead.fraud_score == 65
    assert lead.hold is None
    assert lead.status == LeadStatus.NURTURING


def test_answering_bant_on_the_lead_makes_it_sales_ready_at_once(api_client_for, marketing, source):
    config.create_grading_rule(
        by=SYSTEM, field="job_title", operator="contains", value="director", points=70
    )
    config.update_scoring_settings(by=SYSTEM, ready_grades="AB", ready_min_bant=3)
    lead = assessment_services.create_lead(
        {"email": "dir@firma.nl", "job_title": "Director"}, source=source, by=SYSTEM
    )
    assert lead.status == LeadStatus.NURTURING

    response = api_client_for(marketing).patch(
        f"/api/v1/leads/{lead.pk}",
        {"bant_budget": "met", "bant_authority": "met", "bant_need": "met"},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["status"] == LeadStatus.SALES_READY
