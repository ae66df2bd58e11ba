"""Post limits on the HTTP intake: per source and per address, 429 with Retry-After, nothing lost.

Posts go through the test client to /in/<key> (and the source-key API), as senders make them.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.core.models import RateCounter
from leadloop.intake import services
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads.models import Lead
from leadloop.leads.services import set_intake_limits
from tests.factories.leads import make_source_with_key

# In the middle of a 60-second window, so a test's posts never straddle two windows.
START = dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _small_limits(settings):
    settings.LEADLOOP_INTAKE_LIMIT_PER_SOURCE = 10
    settings.LEADLOOP_INTAKE_LIMIT_PER_ADDRESS = 3
    settings.LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS = 60


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def provider(db):
    return make_source_with_key("Provider")


def _post(key: str, n: int, *, ip: str = "198.51.100.7", **headers: str):
    body = json.dumps({"first_name": f"Ann{n}", "email": f"ann{n}@example.com"})
    return Client(REMOTE_ADDR=ip).post(
        f"/in/{key}", body, content_type="application/json", headers=headers
    )


def test_a_post_over_the_address_limit_is_answered_429_and_stored(provider, clock):
    _, key = provider
    for n in range(3):
        assert _post(key, n).status_code == 201

    response = _post(key, 3)

    stored = RawSubmission.objects.order_by("-pk").first()
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "30"
    assert json.loads(response.content) == {
        "type": "https://leadloop.dev/problems/throttled",
        "title": "Too many requests",
        "status": 429,
        "detail": "More than 3 posts from this address in 60 seconds. "
        "The post was stored; send it again after Retry-After.",
        "instance": f"/in/{key}",
        "retry_after": 30,
        "submission_id": stored.pk,
        "disposition": "throttled",
    }
    assert stored.state == SubmissionState.THROTTLED
    assert json.loads(bytes(stored.body)) == {"first_name": "Ann3", "email": "ann3@example.com"}
    assert stored.reasons == [
        {"code": "throttled", "message": "More than 3 posts from this address in 60 seconds."}
    ]
    assert stored.meta["throttled"] == {
        "scope": "address",
        "allowed": 3,
        "window_seconds": 60,
        "retry_after": 30,
    }
    assert stored.lead_id is None
    assert Lead.objects.count() == 3


def test_another_address_and_another_source_are_not_affected(provider, clock):
    _, key = provider
    _, other_key = make_source_with_key("Other provider")
    for n in range(4):
        _post(key, n)

    from_elsewhere = _post(key, 10, ip="203.0.113.9")
    to_other_source = _post(other_key, 11)

    assert (from_elsewhere.status_code, to_other_source.status_code) == (201, 201)
    assert Lead.objects.count() == 5


def test_ipv6_addresses_of_one_64_share_a_count(provider, clock):
    _, key = provider
    for n in range(3):
        _post(key, n, ip=f"2001:db8:1:2::{n + 1}")

    hopped = _post(key, 3, ip="2001:db8:1:2:ffff::9")
    other_network = _post(key, 4, ip="2001:db8:1:3::1")

    assert (hopped.status_code, other_network.status_code) == (429, 201)


def test_the_source_limit_counts_every_address(provider, clock):
    _, key = provider
    for n in range(10):
        assert _post(key, n, ip=f"198.51.100.{n + 1}").status_code == 201

    response = _post(key, 10, ip="198.51.100.200")

    assert response.status_code == 429
    assert RawSubmission.objects.order_by("-pk").first().reasons[0]["message"] == (
        "More than 10 posts to this source in 60 seconds."
    )


def test_the_window_resets(provider, clock):
    _, key = provider
    for n in range(4):
        _post(key, n)

    clock.shift(dt.timedelta(seconds=30))
    response = _post(key, 5)

    assert response.status_code == 201


def test_a_source_sets_its_own_limits_and_zero_means_none(provider, clock):
    source, key = provider
    set_intake_limits(source, per_source=None, per_address=0, by=SYSTEM)

    answers = [_post(key, n).status_code for n in range(10)]
    over_source_limit = _post(key, 10)

    assert answers == [201] * 10
    assert over_source_limit.status_code == 429


def test_an_xml_sender_gets_problem_xml_with_retry_after(provider, clock):
    _, key = provider
    body = "<lead><email>x{}@example.com</email></lead>"
    client = Client(REMOTE_ADDR="198.51.100.7")
    for n in range(3):
        client.post(f"/in/{key}", body.format(n), content_type="application/xml")

    response = client.post(f"/in/{key}", body.format(3), content_type="application/xml")

    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+xml"
    assert response["Retry-After"] == "30"
    assert "<retry_after>30</retry_after>" in response.text


def test_a_retry_with_the_same_idempotency_key_is_taken_after_the_window(provider, clock):
    _, key = provider
    for n in range(3):
        _post(key, n)
    refused = _post(key, 3, **{"Idempotency-Key": "order-3"})

    clock.shift(dt.timedelta(seconds=30))
    retried = _post(key, 3, **{"Idempotency-Key": "order-3"})

    assert (refused.status_code, retried.status_code) == (429, 201)
    assert RawSubmission.objects.filter(idempotency_key="order-3").count() == 1


def test_throttled_posts_show_in_the_review_queue_and_api(provider, clock, marketing):
    _, key = provider
    for n in range(5):
        _post(key, n)
    held = list(
        RawSubmission.objects.filter(state=SubmissionState.THROTTLED).values_list("pk", flat=True)
    )
    client = Client()
    client.force_login(marketing)

    page = client.get(reverse("intake:submission-list"), {"state": "throttled"})
    api = client.get("/api/v1/intake/submissions", {"state": "throttled"})

    assert len(held) == 2
    assert page.status_code == 200
    for pk in held:
        assert f"#{pk}</a>" in page.text
    assert [item["id"] for item in api.json()["items"]] == sorted(held, reverse=True)
    assert {item["reasons"][0]["code"] for item in api.json()["items"]} == {"throttled"}


def test_a_person_reprocesses_a_throttled_post_into_a_lead(provider, clock, marketing):
    _, key = provider
    for n in range(4):
        _post(key, n)
    held = RawSubmission.objects.get(state=SubmissionState.THROTTLED)
    client = Client()
    client.force_login(marketing)

    response = client.post(
        f"/api/v1/intake/submissions/{held.pk}/reprocess", {}, "application/json"
    )

    held.refresh_from_db()
    assert response.status_code == 200
    assert held.state == SubmissionState.PROCESSED
    assert held.lead.email == "ann3@example.com"
    assert Lead.objects.count() == 4


def test_reprocess_all_of_the_throttled_state_from_the_api(provider, clock, marketing):
    source, key = provider
    for n in range(6):
        _post(key, n)
    client = Client()
    client.force_login(marketing)

    response = client.post(f"/api/v1/intake/sources/{source.pk}/reprocess?state=throttled")

    assert response.json() == {"processed": 3}
    assert not RawSubmission.objects.filter(state=SubmissionState.THROTTLED).exists()
    assert Lead.objects.count() == 6


def test_a_throttled_post_is_not_processed_by_the_orphan_sweep(provider, clock):
    _, key = provider
    for n in range(4):
        _post(key, n)

    clock.shift(dt.timedelta(hours=1))
    services.process_orphans()

    assert RawSubmission.objects.get(reasons__0__code="throttled").state == (
        SubmissionState.THROTTLED
    )
    assert Lead.objects.count() == 3


def test_the_source_key_api_path_is_throttled_too(provider, clock):
    _, key = provider
    client = Client(REMOTE_ADDR="198.51.100.7", headers={"X-API-Key": key})
    for n in range(3):
        created = client.post(
            "/api/v1/leads", {"email": f"b{n}@example.com"}, content_type="application/json"
        )
        assert created.status_code == 201

    response = client.post(
        "/api/v1/leads", {"email": "b3@example.com"}, content_type="application/json"
    )

    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "30"
    assert response.json()["type"] == "https://leadloop.dev/problems/throttled"
    stored = RawSubmission.objects.order_by("-pk").first()
    assert (stored.state, json.loads(bytes(stored.body))) == (
        SubmissionState.THROTTLED,
        {"email": "b3@example.com"},
    )


def test_wrong_source_keys_from_one_address_turn_into_429(provider, clock, settings):
    settings.LEADLOOP_KEY_FAILURE_LIMIT = 3
    settings.LEADLOOP_KEY_FAILURE_WINDOW_SECONDS = 600
    _, key = provider
    guesses = [_post(f"lls_guess{n}", n).status_code for n in range(3)]

    blocked_guess = _post("lls_guess9", 9)
    right_key = _post(key, 10)
    other_address = _post("lls_guess9", 11, ip="203.0.113.9")

    assert guesses == [404, 404, 404]
    assert blocked_guess.status_code == 429
    assert blocked_guess["Retry-After"] == "570"  # the 10-minute window started at 9:00
    assert blocked_guess.json()["detail"] == (
        "Too many wrong keys from this address. Try again in 570 seconds."
    )
    assert right_key.status_code == 201
    assert other_address.status_code == 404
    assert RawSubmission.objects.count() == 1


def test_the_limits_are_set_through_the_sources_api(provider, admin, rep):
    source, _ = provider
    body = {"intake_limit": 500, "intake_limit_per_address": 0}
    admin_client, rep_client = Client(), Client()
    admin_client.force_login(admin)
    rep_client.force_login(rep)

    refused = rep_client.put(f"/api/v1/sources/{source.pk}/limits", body, "application/json")
    response = admin_client.put(f"/api/v1/sources/{source.pk}/limits", body, "application/json")

    source.refresh_from_db()
    assert refused.status_code in (403, 404)
    assert response.status_code == 200
    assert (response.json()["intake_limit"], response.json()["intake_limit_per_address"]) == (
        500,
        0,
    )
    assert (source.intake_limit, source.intake_limit_per_address) == (500, 0)


def test_counters_of_ended_windows_are_pruned(provider, clock):
    from leadloop.core.ratelimit import prune

    _, key = provider
    _post(key, 1)

    clock.shift(dt.timedelta(minutes=1))
    removed = prune()

    assert removed == 2
    assert RateCounter.objects.count() == 0


def test_marketing_sets_the_limits_on_the_sources_page(provider, marketing, rep):
    source, _ = provider
    page_client, rep_client = Client(), Client()
    page_client.force_login(marketing)
    rep_client.force_login(rep)
    url = reverse("leads:source-limits", args=[source.pk])

    page = page_client.get(reverse("leads:source-list"))
    refused = rep_client.post(url, {"intake_limit": "5", "intake_limit_per_address": ""})
    source.refresh_from_db()
    after_refusal = (source.intake_limit, source.intake_limit_per_address)
    saved = page_client.post(url, {"intake_limit": "200", "intake_limit_per_address": ""})
    source.refresh_from_db()
    after_save = (source.intake_limit, source.intake_limit_per_address)
    hostile = page_client.post(url, {"intake_limit": "-1", "intake_limit_per_address": "1e9"})
    source.refresh_from_db()

    assert 'placeholder="10"' in page.text  # the deployment default is shown
    assert refused.status_code in (403, 404)
    assert after_refusal == (None, None)
    assert saved.status_code == 302
    assert after_save == (200, None)
    assert hostile.status_code == 302
    assert (source.intake_limit, source.intake_limit_per_address) == (200, None)


def test_one_address_flooding_does_not_use_up_the_sources_budget(provider, clock):
    _, key = provider
    for n in range(3):
        assert _post(key, n, ip="198.51.100.7").status_code == 201
    for n in range(3, 30):
        assert _post(key, n, ip="198.51.100.7").status_code == 429

    others = [_post(key, 100 + n, ip=f"203.0.113.{n}").status_code for n in range(7)]
    over = _post(key, 200, ip="203.0.113.99")

    assert others == [201] * 7
    assert over.status_code == 429
    assert json.loads(over.content)["detail"].startswith("More than 10 posts to this source")
    assert RateCounter.objects.get(key=f"in:s:{provider[0].pk}").hits == 11
