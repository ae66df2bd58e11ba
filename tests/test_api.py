"""How the API tells "who are you?" (401) from "not with this session" (403)."""

import json

import pytest
from django.test import Client

from leadloop.leads.models import Activity, Lead
from tests.factories.leads import make_lead

WRITES = [
    ("post", "/api/v1/leads", {"last_name": "X"}),
    ("patch", "/api/v1/leads/{lead}", {"city": "Hacked"}),
    ("post", "/api/v1/leads/{lead}/activities", {"kind": "note", "message": "x"}),
    ("post", "/api/v1/organizations", {"name": "Acme"}),
    ("delete", "/api/v1/assessment/config/blocklist/1", None),
    ("post", "/api/v1/me/api-keys", {"name": "script"}),
    ("delete", "/api/v1/api-keys/1", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_without_any_credentials_is_401_problem_with_www_authenticate(
    source, method, path, body
):
    lead = make_lead(source, city="Delft")
    client = Client(enforce_csrf_checks=True)

    response = getattr(client, method)(
        path.format(lead=lead.pk), json.dumps(body or {}), content_type="application/json"
    )

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert response["WWW-Authenticate"] == 'Bearer realm="leadloop"'
    problem = json.loads(response.content)
    assert problem["title"] == "Not authenticated"
    assert problem["type"] == "https://leadloop.dev/problems/notauthenticated"
    lead.refresh_from_db()
    assert lead.city == "Delft"
    assert Lead.objects.count() == 1
    assert Activity.objects.filter(lead=lead).exclude(kind="created").count() == 0


def test_write_with_a_stale_session_cookie_is_401_not_csrf(source):
    client = Client(enforce_csrf_checks=True)
    client.cookies["sessionid"] = "expired-or-made-up"

    response = client.post(
        "/api/v1/leads", {"source_id": source.pk}, content_type="application/json"
    )

    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="leadloop"'


def test_logged_in_browser_write_without_csrf_token_is_403_problem(source, admin):
    lead = make_lead(source, city="Delft")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)

    response = client.patch(
        f"/api/v1/leads/{lead.pk}", {"city": "Forged"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert response["Content-Type"] == "application/problem+json"
    assert json.loads(response.content)["type"] == "https://leadloop.dev/problems/csrffailed"
    lead.refresh_from_db()
    assert lead.city == "Delft"


def test_logged_in_browser_write_with_csrf_token_works(source, admin):
    lead = make_lead(source, city="Delft")
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    client.get("/leads/")  # the page sets the CSRF cookie, as in a browser
    token = client.cookies["csrftoken"].value

    response = client.patch(
        f"/api/v1/leads/{lead.pk}",
        {"city": "Leiden"},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.city == "Leiden"


def test_logged_in_browser_read_needs_no_csrf_token(source, admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)

    assert client.get("/api/v1/leads").status_code == 200


def test_api_key_write_needs_no_csrf_token_even_beside_a_session(source, admin, api_client_for):
    lead = make_lead(source, city="Delft")
    client = api_client_for(admin)
    client.force_login(admin)

    response = client.patch(
        f"/api/v1/leads/{lead.pk}", {"city": "Leiden"}, content_type="application/json"
    )

    assert response.status_code == 200
