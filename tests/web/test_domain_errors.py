"""Views let domain errors propagate; one middleware turns them into 404 and 403."""

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from leadloop.errors import NotAllowed, NotFound, ValidationFailed
from leadloop.web.middleware import DomainErrorMiddleware


def _middleware():
    return DomainErrorMiddleware(lambda request: HttpResponse())


def test_not_found_becomes_404_and_not_allowed_403():
    request = RequestFactory().get("/")
    with pytest.raises(Http404, match=r"No such lead."):
        _middleware().process_exception(request, NotFound("No such lead."))
    with pytest.raises(PermissionDenied, match=r"Nope."):
        _middleware().process_exception(request, NotAllowed("Nope."))


def test_other_errors_are_left_to_the_view_or_django():
    request = RequestFactory().get("/")
    assert _middleware().process_exception(request, ValidationFailed("Bad.")) is None
    assert _middleware().process_exception(request, ValueError("x")) is None


def test_a_lead_the_user_cannot_see_answers_404_through_the_mapping(client, rep, db):
    client.force_login(rep)
    response = client.get(reverse("leads:lead-detail", kwargs={"lead_id": 999999}))
    assert response.status_code == 404
