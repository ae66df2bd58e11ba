"""Enrichment pages and API: marketing and admins configure providers; everyone else is kept out,
and running a provider for a lead is scoped to the leads the caller may see."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import enrichment
from leadloop.assessment.models import EnrichmentProvider
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Activity, ActivityKind
from tests.factories.leads import make_lead

ACME = {"company": {"name": "Acme BV", "industry": "Widgets"}}
API = "/api/v1/assessment/enrichment"


def _provider(httpserver, **overrides):
    values = {
        "name": "Company data",
        "url": httpserver.url_for("/company"),
        "headers": {"X-Key": "s3cret"},
        "request_fields": {"domain": "email_domain"},
        "response_fields": {"company.name": "company_name", "company.industry": "extra.industry"},
        **overrides,
    }
    return enrichment.create_provider(values=values, by=SYSTEM)


def _form(httpserver, **overrides):
    return {
        "name": "Company data",
        "url": httpserver.url_for("/company"),
        "method": "GET",
        "headers": "X-Key: s3cret",
        "request_fields": "domain = email_domain",
        "response_fields": "company.name = company_name\ncompany.industry = extra.industry",
        "timeout_seconds": "2.5",
        "cache_hours": "12",
        "only_fill_empty": "on",
        "is_active": "on",
        **overrides,
    }


# --- Pages ---------------------------------------------------------------------------------------


def test_marketing_adds_a_provider_through_the_form(logged_in_client, marketing, httpserver):
    client = logged_in_client(marketing)

    response = client.post(reverse("assessment:enrichment-create"), _form(httpserver))

    provider = EnrichmentProvider.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("assessment:enrichment-edit", args=[provider.pk])
    assert enrichment.provider_headers(provider) == {"X-Key": "s3cret"}
    assert provider.header_names == ["X-Key"]
    assert "s3cret" not in provider.headers_encrypted
    assert provider.request_fields == {"domain": "email_domain"}
    assert provider.response_fields == {
        "company.name": "company_name",
        "company.industry": "extra.industry",
    }
    assert (provider.timeout_seconds, provider.cache_hours) == (2.5, 12)


def test_the_list_shows_providers_and_the_built_in_ones(logged_in_client, admin, httpserver):
    _provider(httpserver)

    response = logged_in_client(admin).get(reverse("assessment:enrichment-list"))

    assert response.status_code == 200
    assert "Company data" in response.text
    assert "Postal code" in response.text


def test_a_form_with_an_unknown_target_field_is_shown_again_with_the_error(
    logged_in_client, marketing, httpserver
):
    data = _form(httpserver, response_fields="company.name = status")

    response = logged_in_client(marketing).post(reverse("assessment:enrichment-create"), data)

    assert response.status_code == 422
    assert "not a lead field that can be filled" in response.text
    assert EnrichmentProvider.objects.count() == 0


def test_marketing_edits_and_deletes_a_provider(logged_in_client, marketing, httpserver):
    provider = _provider(httpserver)
    client = logged_in_client(marketing)

    edited = client.post(
        reverse("assessment:enrichment-edit", args=[provider.pk]),
        _form(httpserver, name="Renamed", is_active=""),
    )
    deleted = client.post(reverse("assessment:enrichment-delete", args=[provider.pk]))

    assert edited.status_code == 302
    assert deleted.status_code == 302
    assert EnrichmentProvider.objects.count() == 0


def test_the_edit_form_masks_header_values_and_keeps_them_when_sent_back(
    logged_in_client, marketing, httpserver
):
    provider = _provider(httpserver)
    client = logged_in_client(marketing)
    url = reverse("assessment:enrichment-edit", args=[provider.pk])

    page = client.get(url)
    kept = client.post(url, _form(httpserver, headers="X-Key: ••••••", cache_hours="1"))
    after_keep = enrichment.provider_headers(EnrichmentProvider.objects.get())
    replaced = client.post(url, _form(httpserver, headers="X-Key: n3w\nX-Other: ••••••"))

    assert "s3cret" not in page.text
    assert "X-Key: ••••••" in page.text
    assert kept.status_code == 302
    assert after_keep == {"X-Key": "s3cret"}
    assert replaced.status_code == 422
    assert "Give the value of header X-Other." in replaced.text
    assert "n3w" not in replaced.text
    assert enrichment.provider_headers(EnrichmentProvider.objects.get()) == {"X-Key": "s3cret"}


def test_a_header_left_out_is_dropped_and_a_new_value_replaces(marketing, httpserver):
    provider = _provider(httpserver, headers={"X-Key": "s3cret", "X-Tenant": "acme"})
    values = {
        "name": "Company data",
        "url": httpserver.url_for("/company"),
        "request_fields": {"domain": "email_domain"},
        "response_fields": {"company.name": "company_name"},
    }

    enrichment.update_provider(
        provider, values={**values, "headers": {"X-Key": "n3w"}}, by=marketing
    )

    provider.refresh_from_db()
    assert provider.header_names == ["X-Key"]
    assert enrichment.provider_headers(provider) == {"X-Key": "n3w"}


def test_the_test_button_shows_what_would_be_appended_without_changing_the_lead(
    logged_in_client, marketing, httpserver, source
):
    httpserver.expect_request("/company").respond_with_json(ACME)
    provider = _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl", company_name="Given Ltd")

    response = logged_in_client(marketing).post(
        reverse("assessment:enrichment-test", args=[provider.pk]),
        {"lead_id": str(lead.pk)},
        headers={"HX-Request": "true"},
    )

    lead.refresh_from_db()
    assert response.status_code == 200
    assert "Widgets" in response.text
    assert "no, the lead has a value" in response.text
    assert lead.company_name == "Given Ltd"
    assert lead.extra == {}
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.FIELD_CHANGED).exists()


def test_the_test_button_with_an_unknown_lead_says_so(logged_in_client, marketing, httpserver):
    provider = _provider(httpserver)

    response = logged_in_client(marketing).post(
        reverse("assessment:enrichment-test", args=[provider.pk]), {"lead_id": "abc"}
    )

    assert response.status_code == 404
    assert "No lead with that number." in response.text
    assert httpserver.log == []


@pytest.mark.parametrize("who", ["rep", "manager", "partner_user"])
def test_other_roles_do_not_see_the_enrichment_pages(
    db, request, logged_in_client, httpserver, who
):
    provider = _provider(httpserver)
    client = logged_in_client(request.getfixturevalue(who))

    listed = client.get(reverse("assessment:enrichment-list"))
    created = client.post(reverse("assessment:enrichment-create"), _form(httpserver, name="X"))
    deleted = client.post(reverse("assessment:enrichment-delete", args=[provider.pk]))

    assert (listed.status_code, created.status_code, deleted.status_code) == (404, 404, 404)
    assert list(EnrichmentProvider.objects.values_list("name", flat=True)) == ["Company data"]


# --- API -----------------------------------------------------------------------------------------


def test_the_api_creates_lists_and_replaces_providers(api_client_for, marketing, httpserver):
    client = api_client_for(marketing)
    body = {
        "name": "Company data",
        "url": httpserver.url_for("/company"),
        "headers": {"X-Key": "s3cret"},
        "request_fields": {"domain": "email_domain"},
        "response_fields": {"company.name": "company_name"},
    }

    created = client.post(f"{API}/providers", body, content_type="application/json")
    provider_id = created.json()["id"]
    replaced = client.put(
        f"{API}/providers/{provider_id}",
        {**body, "cache_hours": 0},
        content_type="application/json",
    )
    listed = client.get(f"{API}/providers")

    assert created.status_code == 201
    assert created.json()["header_names"] == ["X-Key"]
    assert "s3cret" not in created.text
    assert replaced.json()["cache_hours"] == 0
    assert [p["id"] for p in listed.json()] == [provider_id]


def test_the_api_answers_invalid_settings_with_a_problem(api_client_for, marketing, httpserver):
    body = {
        "name": "Bad",
        "url": "ftp://example.com/x",
        "request_fields": {"domain": "password"},
        "response_fields": {"a": "email"},
        "timeout_seconds": 999,
    }

    response = api_client_for(marketing).post(
        f"{API}/providers", body, content_type="application/json"
    )

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert sorted({e["field"] for e in response.json()["errors"]}) == [
        "request_fields",
        "response_fields",
        "timeout_seconds",
        "url",
    ]
    assert EnrichmentProvider.objects.count() == 0


@pytest.mark.parametrize("who", ["rep", "partner_user"])
def test_the_api_keeps_other_roles_from_the_providers(db, request, api_client_for, httpserver, who):
    provider = _provider(httpserver)
    client = api_client_for(request.getfixturevalue(who))

    listed = client.get(f"{API}/providers")
    deleted = client.delete(f"{API}/providers/{provider.pk}")

    assert listed.status_code == 403
    assert deleted.status_code == 404
    assert EnrichmentProvider.objects.count() == 1


def test_a_rep_runs_enrichment_for_their_own_lead(api_client_for, rep, httpserver, source):
    httpserver.expect_request("/company").respond_with_json(ACME)
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl", assigned_to=rep)

    response = api_client_for(rep).post(
        f"{API}/run", {"lead_id": lead.pk}, content_type="application/json"
    )

    lead.refresh_from_db()
    assert response.status_code == 200
    assert response.json()["outcomes"][0]["filled"]["company_name"] == {
        "old": "",
        "new": "Acme BV",
    }
    assert lead.company_name == "Acme BV"
    change = Activity.objects.get(lead=lead, kind=ActivityKind.FIELD_CHANGED)
    assert change.actor_user_id == rep.pk


def test_a_rep_cannot_run_enrichment_for_another_reps_lead(
    api_client_for, rep, other_rep, httpserver, source
):
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl", assigned_to=other_rep)

    response = api_client_for(rep).post(
        f"{API}/run", {"lead_id": lead.pk}, content_type="application/json"
    )

    lead.refresh_from_db()
    # A lead id in the body the caller cannot see is a field error, as for one that is missing.
    assert response.status_code == 422
    assert httpserver.log == []
    assert lead.company_name == ""


def test_a_partner_cannot_run_enrichment_even_for_its_own_lead(
    api_client_for, partner_user, partner_org, httpserver, source
):
    _provider(httpserver)
    lead = make_lead(source, email="ann@acme.nl", partner=partner_org)

    response = api_client_for(partner_user).post(
        f"{API}/run", {"lead_id": lead.pk}, content_type="application/json"
    )

    assert response.status_code == 403
    assert httpserver.log == []
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.FIELD_CHANGED).exists()


def test_a_stored_key_does_not_follow_the_provider_to_another_server(marketing, httpserver):
    provider = _provider(httpserver)
    elsewhere = {
        "name": "Company data",
        "url": "https://collector.example.net/company",
        "request_fields": {"domain": "email_domain"},
        "response_fields": {"company.name": "company_name"},
        "headers": {"X-Key": "••••••"},
    }

    with pytest.raises(ValidationFailed) as refused:
        enrichment.update_provider(provider, values=elsewhere, by=marketing)
    moved = enrichment.update_provider(
        provider, values={**elsewhere, "headers": {"X-Key": "for-them"}}, by=marketing
    )

    assert refused.value.errors["headers"] == ["Give the value of header X-Key."]
    assert enrichment.provider_headers(moved) == {"X-Key": "for-them"}
