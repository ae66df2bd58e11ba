"""The generic HTTP enrichment provider, against a local web server (pytest-httpserver): field
mapping, the cache and its expiry, time-outs, private hosts, hostile answers, the task."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading

import pytest
import time_machine
from django.core.management import call_command
from django_tasks import default_task_backend
from werkzeug import Response

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import enrichment
from leadloop.assessment.models import EnrichmentCacheEntry
from leadloop.assessment.scoring import rules
from leadloop.assessment.tasks import EnrichmentRetry, enrich_lead_task
from leadloop.errors import ValidationFailed
from leadloop.intake import services as intake
from leadloop.leads.models import Activity, ActivityKind, Lead
from tests.factories.leads import make_lead, make_source

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _empty_task_queue():
    default_task_backend.clear()
    yield
    default_task_backend.clear()


@pytest.fixture
def source(db):
    return make_source("Web", country="NL")


def _provider(httpserver, **overrides):
    values = {
        "name": "Company data",
        "url": httpserver.url_for("/company"),
        "method": "GET",
        "headers": {"Authorization": "Bearer k3y"},
        "request_fields": {"domain": "email_domain"},
        "response_fields": {
            "company.name": "company_name",
            "company.city": "city",
            "company.industry": "extra.industry",
            "company.employees": "extra.employees",
        },
        "timeout_seconds": 2,
        "cache_hours": 24,
        **overrides,
    }
    return enrichment.create_provider(values=values, by=SYSTEM)


ACME = {"company": {"name": "Acme BV", "city": "Delft", "industry": "Widgets", "employees": 40}}


def _changes(lead):
    return Activity.objects.filter(lead=lead, kind=ActivityKind.FIELD_CHANGED)


def test_the_answer_fills_the_mapped_empty_fields_and_is_marked_with_its_provider(
    httpserver, source
):
    httpserver.expect_request(
        "/company", query_string="domain=acme.nl", headers={"Authorization": "Bearer k3y"}
    ).respond_with_json(ACME)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl", city="Utrecht")

    with time_machine.travel(NOW, tick=False):
        run = enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert lead.company_name == "Acme BV"
    assert lead.city == "Utrecht"
    assert lead.extra == {"industry": "Widgets", "employees": 40}
    assert lead.assessment["appended"]["company_name"] == {
        "value": "Acme BV",
        "provider": "Company data",
        "at": NOW.isoformat(),
    }
    assert "acme" in lead.search_text
    [change] = _changes(lead)
    assert change.data["provider"] == "Company data"
    assert change.data["changes"] == [
        {"field": "company_name", "old": "", "new": "Acme BV"},
        {"field": "extra.industry", "old": None, "new": "Widgets"},
        {"field": "extra.employees", "old": None, "new": 40},
    ]
    assert run.should_retry is False


def test_a_provider_set_to_replace_overwrites_and_keeps_the_old_value_on_the_timeline(
    httpserver, source
):
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver, only_fill_empty=False)
    lead = make_lead(source, email="ann@acme.nl", city="Utrecht")

    enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert lead.city == "Delft"
    [change] = _changes(lead)
    assert {"field": "city", "old": "Utrecht", "new": "Delft"} in change.data["changes"]


def test_a_post_provider_sends_the_fields_as_json(httpserver, source):
    httpserver.expect_request(
        "/company", method="POST", json={"domain": "acme.nl", "mail": "ann@acme.nl"}
    ).respond_with_json(ACME)
    _provider(httpserver, method="POST", request_fields={"domain": "email_domain", "mail": "email"})
    lead = make_lead(source, email="ann@acme.nl")

    enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert lead.company_name == "Acme BV"


def test_a_second_lead_with_the_same_request_is_answered_from_the_cache(httpserver, source):
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver)
    first = make_lead(source, email="ann@acme.nl")
    second = make_lead(source, email="bob@acme.nl")

    enrichment.enrich_stored_lead(first.pk)
    run = enrichment.enrich_stored_lead(second.pk)

    second.refresh_from_db()
    assert len(httpserver.log) == 1
    assert run.outcomes[0].from_cache is True
    assert second.company_name == "Acme BV"
    assert EnrichmentCacheEntry.objects.count() == 1


def test_an_expired_cache_entry_is_fetched_again(httpserver, source):
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver, cache_hours=24)
    first = make_lead(source, email="ann@acme.nl")
    second = make_lead(source, email="bob@acme.nl")
    with time_machine.travel(NOW, tick=False):
        enrichment.enrich_stored_lead(first.pk)

    with time_machine.travel(NOW + dt.timedelta(hours=25), tick=False):
        run = enrichment.enrich_stored_lead(second.pk)

    assert len(httpserver.log) == 2
    assert run.outcomes[0].from_cache is False
    assert EnrichmentCacheEntry.objects.get().fetched_at == NOW + dt.timedelta(hours=25)


def test_running_twice_writes_once(httpserver, source):
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    enrichment.enrich_stored_lead(lead.pk)
    enrichment.enrich_stored_lead(lead.pk)

    assert _changes(lead).count() == 1


def test_a_lead_without_the_fields_to_send_is_skipped(httpserver, source):
    _provider(httpserver)
    lead = make_lead(source, phone="0612345678")

    run = enrichment.enrich_stored_lead(lead.pk)

    assert run.outcomes[0].skipped != ""
    assert httpserver.log == []


def test_a_slow_provider_times_out_and_the_lead_keeps_its_values(httpserver, source):
    answer = threading.Event()  # the provider answers only after the test is done

    def slow(request):
        answer.wait(10)
        return Response(json.dumps(ACME), content_type="application/json")

    httpserver.expect_request("/company").respond_with_handler(slow)
    _provider(httpserver, timeout_seconds=0.2)
    lead = make_lead(source, email="ann@acme.nl")

    try:
        run = enrichment.enrich_stored_lead(lead.pk)
    finally:
        answer.set()

    lead.refresh_from_db()
    [outcome] = run.outcomes
    assert outcome.retryable is True
    assert outcome.error == "The provider did not answer within 0.2 s."
    assert lead.company_name == ""
    assert lead.assessment["errors"][-1] == {
        "stage": "enrich",
        "provider": "Company data",
        "error": "The provider did not answer within 0.2 s.",
    }
    assert _changes(lead).count() == 0
    assert EnrichmentCacheEntry.objects.count() == 0


def test_a_later_success_clears_the_recorded_failure(httpserver, source):
    httpserver.expect_oneshot_request("/company").respond_with_data("down", status=503)
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")
    enrichment.enrich_stored_lead(lead.pk)

    enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert lead.company_name == "Acme BV"
    assert [e for e in lead.assessment["errors"] if e.get("provider")] == []


@pytest.mark.parametrize(
    ("status", "body", "retryable", "error"),
    [
        (503, "busy", True, "The provider answered HTTP 503."),
        (500, "oops", True, "The provider answered HTTP 500."),
        (400, "bad", False, "The provider answered HTTP 400."),
        (200, "<html>not json</html>", False, "The provider's answer is not JSON."),
        (302, "", False, "The provider redirected to http://169.254.169.254/."),
    ],
)
def test_failed_answers_are_recorded_and_only_5xx_is_retried(
    httpserver, source, status, body, retryable, error
):
    headers = {"Location": "http://169.254.169.254/"} if status == 302 else {}
    httpserver.expect_request("/company").respond_with_data(body, status=status, headers=headers)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    run = enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert run.outcomes[0].error == error
    assert run.should_retry is retryable
    assert lead.assessment["errors"][-1]["error"] == error
    assert lead.company_name == ""


def test_a_404_means_nothing_known_and_is_cached(httpserver, source):
    httpserver.expect_request("/company").respond_with_data("", status=404)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    first = enrichment.enrich_stored_lead(lead.pk)
    second = enrichment.enrich_stored_lead(lead.pk)

    assert first.outcomes[0].error == ""
    assert second.outcomes[0].from_cache is True
    assert len(httpserver.log) == 1
    assert _changes(lead).count() == 0


def test_the_task_raises_for_a_retry_on_a_timeout_and_enqueues_the_next_attempt(httpserver, source):
    httpserver.expect_request("/company").respond_with_data("busy", status=502)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    with pytest.raises(EnrichmentRetry):
        enrich_lead_task.call(lead_id=lead.pk)

    [retry] = default_task_backend.results
    assert retry.kwargs == {"lead_id": lead.pk, "_attempt": 2}


def test_the_task_does_not_retry_a_permanent_failure(httpserver, source):
    httpserver.expect_request("/company").respond_with_data("nope", status=403)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    filled = enrich_lead_task.call(lead_id=lead.pk)

    assert filled == 0
    assert list(default_task_backend.results) == []


# --- Private hosts -------------------------------------------------------------------------------


def test_a_provider_on_a_loopback_address_is_refused_when_private_hosts_are_not_allowed(
    db, httpserver, settings
):
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = False

    with pytest.raises(ValidationFailed) as refused:
        _provider(httpserver, url="http://127.0.0.1:8080/company")

    assert refused.value.errors["url"] == [
        "127.0.0.1 is not a public address; connections to it are refused."
    ]


def test_a_provider_saved_earlier_is_not_called_once_private_hosts_are_refused(
    httpserver, source, settings
):
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = False

    run = enrichment.enrich_stored_lead(lead.pk)

    assert httpserver.log == []
    assert "is not a public address" in run.outcomes[0].error
    assert run.should_retry is False


# --- Hostile answers -----------------------------------------------------------------------------


def test_an_answer_larger_than_the_cap_is_refused(httpserver, source):
    huge = {"company": {"name": "x" * (enrichment.MAX_RESPONSE_BYTES + 10)}}
    httpserver.expect_request("/company").respond_with_json(huge)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    run = enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert run.outcomes[0].error == "The provider's answer is larger than 256 KB."
    assert lead.company_name == ""


def test_an_answer_without_a_length_that_grows_past_the_cap_is_refused(httpserver, source):
    def streamed(request):
        chunks = (b"[" * 1024 for _ in range(400))
        return Response(chunks, content_type="application/json", direct_passthrough=True)

    httpserver.expect_request("/company").respond_with_handler(streamed)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    run = enrichment.enrich_stored_lead(lead.pk)

    assert run.outcomes[0].error == "The provider's answer is larger than 256 KB."


@pytest.mark.parametrize(
    "body",
    [
        "[" * 100_000 + "]" * 100_000,
        '{"company": {"name": "Acme"',
        "{" + '"a":{' * 40 + '"b":1' + "}" * 41,
    ],
    ids=["bracket-bomb", "truncated", "nested-40"],
)
def test_deeply_nested_or_broken_json_is_refused(httpserver, source, body):
    httpserver.expect_request("/company").respond_with_data(body, content_type="application/json")
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    run = enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert run.outcomes[0].error in (
        "The provider's answer is not JSON.",
        "The provider's answer is nested too deeply.",
    )
    assert lead.company_name == ""
    assert EnrichmentCacheEntry.objects.count() == 0


def test_values_of_the_wrong_type_are_left_out_and_the_rest_is_used(httpserver, source):
    answer = {
        "company": {
            "name": ["Acme", "BV"],
            "city": "x" * 500,
            "industry": {"code": 1},
            "employees": 12,
        },
        "country": "Narnia",
        "language": True,
    }
    httpserver.expect_request("/company").respond_with_json(answer)
    mapping = {**_provider_mapping(), "country": "country", "language": "language"}
    _provider(httpserver, response_fields=mapping)
    lead = make_lead(source, email="ann@acme.nl")

    run = enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert lead.extra == {"employees": 12}
    assert (lead.company_name, lead.city, lead.country, lead.language) == ("", "", "", "")
    assert len(run.outcomes[0].problems) == 5


def _provider_mapping():
    return {
        "company.name": "company_name",
        "company.city": "city",
        "company.industry": "extra.industry",
        "company.employees": "extra.employees",
    }


def test_nan_and_huge_numbers_are_not_stored(httpserver, source):
    httpserver.expect_request("/company").respond_with_data(
        '{"company": {"employees": NaN, "industry": 1' + "0" * 5000 + "}}",
        content_type="application/json",
    )
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl")

    run = enrichment.enrich_stored_lead(lead.pk)

    lead.refresh_from_db()
    assert lead.extra == {}
    assert run.outcomes[0].error == "The provider's answer is not JSON."


# --- Intake --------------------------------------------------------------------------------------


def _receive(source, email):
    submission = intake.receive(
        source=source,
        channel="http",
        body=json.dumps({"email": email}).encode(),
        content_type="application/json",
    )
    return intake.process_submission(submission.pk)


def test_the_intake_enqueues_the_http_enrichment_after_commit_when_a_provider_is_active(
    httpserver, source, django_capture_on_commit_callbacks
):
    _provider(httpserver)
    rules.invalidate()

    with django_capture_on_commit_callbacks(execute=True):
        done = _receive(source, "ann@acme.nl")

    assert [(r.task.name, r.kwargs) for r in default_task_backend.results] == [
        ("enrich_lead_task", {"lead_id": done.lead_id})
    ]
    assert httpserver.log == []  # never called inline


def test_the_intake_enqueues_nothing_without_an_active_provider(
    httpserver, source, django_capture_on_commit_callbacks
):
    _provider(httpserver, is_active=False)
    rules.invalidate()

    with django_capture_on_commit_callbacks(execute=True):
        done = _receive(source, "ann@acme.nl")

    assert Lead.objects.filter(pk=done.lead_id).exists()
    assert list(default_task_backend.results) == []


def test_the_command_enriches_the_leads_missing_a_value_a_provider_fills(httpserver, source):
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver)
    missing = make_lead(source, email="ann@acme.nl")
    complete = make_lead(source, email="bob@acme.nl", company_name="Given", city="Leiden")
    out = io.StringIO()

    call_command("enrich", "--all-missing", "--json", stdout=out)

    missing.refresh_from_db()
    complete.refresh_from_db()
    assert json.loads(out.getvalue()) == {"leads": 1, "fields_filled": 4, "failures": 0}
    assert missing.company_name == "Acme BV"
    assert complete.extra == {}
