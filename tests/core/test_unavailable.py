"""A database that cannot answer is a 503 with Retry-After (core/unavailable.py), never a 500.

The errors are raised where a real one would come from (the selector's query, the middleware's
read of the deployment defaults); tests/core/test_disk_full.py fills a real disk.
"""

from __future__ import annotations

import json

import pytest
from django.db import InterfaceError, OperationalError, ProgrammingError
from django.test import Client

from leadloop.leads import selectors

pytestmark = pytest.mark.django_db


def _failing(exc: Exception):
    def fail(*args, **kwargs):
        raise exc

    return fail


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (OperationalError("database or disk is full"), "full"),
        (OperationalError("database is locked (writer queue)"), "locked"),
        (OperationalError("server closed the connection unexpectedly"), "unavailable"),
        (InterfaceError("connection already closed"), "unavailable"),
    ],
)
def test_the_api_answers_503_problem_details_when_the_database_cannot(
    admin, api_client_for, monkeypatch, error, reason
):
    client = api_client_for(admin)
    monkeypatch.setattr(selectors, "get_lead_for", _failing(error))

    answer = client.get("/api/v1/leads/1")

    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/problem+json"
    assert answer["Retry-After"] == "30"
    problem = json.loads(answer.content)
    assert (problem["type"], problem["reason"]) == (
        "https://leadloop.dev/problems/unavailable",
        reason,
    )


def test_an_error_in_the_statement_stays_a_500(admin, api_client_for, monkeypatch):
    client = api_client_for(admin)
    monkeypatch.setattr(selectors, "get_lead_for", _failing(ProgrammingError("no such column")))

    answer = client.get("/api/v1/leads/1")

    assert answer.status_code == 500
    assert "Retry-After" not in answer


def test_a_page_gets_a_503_page_in_the_users_language_without_the_database(admin, monkeypatch):
    client = Client(raise_request_exception=False)
    client.force_login(admin)
    from leadloop.web import middleware

    monkeypatch.setattr(middleware, "get_defaults", _failing(OperationalError("disk I/O error")))

    answer = client.get("/leads/", headers={"Accept-Language": "nl"})

    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"
    assert answer["Content-Type"].startswith("text/html")
    assert "Leadloop is even niet bereikbaar" in answer.content.decode()


def test_the_intake_answers_503_when_nothing_could_be_stored(db, monkeypatch):
    from leadloop.intake import services as intake_services
    from tests.factories.leads import make_source_with_key

    _source, key = make_source_with_key("Provider")
    monkeypatch.setattr(
        intake_services, "receive", _failing(OperationalError("database or disk is full"))
    )

    answer = Client(raise_request_exception=False).post(
        f"/in/{key}", json.dumps({"email": "a@example.com"}), content_type="application/json"
    )

    assert answer.status_code == 503
    assert json.loads(answer.content)["reason"] == "full"
