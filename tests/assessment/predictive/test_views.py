"""The predictive model page and API: train (with include checkboxes), report, history, roles."""

from __future__ import annotations

import pytest

from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive import services as predictive
from leadloop.intake.imports.bulk import import_file
from leadloop.leads.models import ChannelKind, Lead
from tests.assessment.predictive.test_services import LEAK, history_csv
from tests.factories.leads import make_source

PAGE = "/assessment/models/"
TRAIN = "/assessment/models/train/"
API = "/api/v1/assessment/models"


@pytest.fixture(autouse=True)
def _fresh_model_cache():
    predictive.invalidate()
    yield
    predictive.invalidate()


@pytest.fixture
def history(db, marketing, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    crm = make_source("CRM history", kind=ChannelKind.IMPORT)
    import_file(
        history_csv(tmp_path / "history.csv", closed=200, open_leads=12), source=crm, by=marketing
    )
    return crm


def test_marketing_trains_from_the_page_and_sees_the_report(history, marketing, logged_in_client):
    client = logged_in_client(marketing)

    response = client.post(TRAIN, follow=True)

    model = PredictiveModel.objects.get(is_active=True)
    assert response.status_code == 200
    page = response.content.decode()
    assert f"Model {model.pk} trained (AUC {model.auc:.3f}) and 12 open leads scored." in page
    assert "Left out by the leakage check" in page
    assert "<code>extra.Contract number</code>" in page
    assert "Lift by decile" in page
    assert "Calibration" in page
    assert "Too good to be true" not in page
    assert f'value="{LEAK}"' in page  # offered as a checkbox for the next training
    assert Lead.objects.filter(predictive_score__isnull=False).count() == 12


def test_ticking_the_leaky_field_includes_it_and_warns_too_good(
    history, marketing, logged_in_client
):
    client = logged_in_client(marketing)
    client.post(TRAIN)

    response = client.post(TRAIN, {"include": [LEAK]}, follow=True)

    model = PredictiveModel.objects.get(is_active=True)
    assert model.included_fields == [LEAK]
    page = response.content.decode()
    assert "Too good to be true" in page
    assert "Included on request" in page
    assert f'value="{LEAK}" checked' in page
    assert PredictiveModel.objects.count() == 2


def test_too_little_history_is_a_form_error_on_the_page(db, marketing, logged_in_client):
    client = logged_in_client(marketing)

    response = client.post(TRAIN)

    assert response.status_code == 422
    assert "Too little history to learn from: 0 closed leads" in response.content.decode()
    assert PredictiveModel.objects.count() == 0


def test_the_history_lists_every_model_and_each_opens(history, marketing, logged_in_client):
    client = logged_in_client(marketing)
    client.post(TRAIN)
    client.post(TRAIN, {"include": [LEAK]})
    first, second = PredictiveModel.objects.order_by("id")

    listing = client.get(PAGE).content.decode()
    detail = client.get(f"{PAGE}{first.pk}/")

    assert f'href="{PAGE}{first.pk}/"' in listing
    assert f'href="{PAGE}{second.pk}/"' in listing
    assert detail.status_code == 200
    assert f"Predictive model #{first.pk}" in detail.content.decode()
    assert client.get(f"{PAGE}{second.pk + 100}/").status_code == 404


def test_the_page_without_a_model_says_so(db, admin, logged_in_client):
    response = logged_in_client(admin).get(PAGE)

    assert response.status_code == 200
    assert "No model yet." in response.content.decode()


@pytest.mark.parametrize("role", ["rep", "manager", "partner_user"])
def test_other_roles_get_no_page_and_cannot_train(history, role, request, logged_in_client):
    client = logged_in_client(request.getfixturevalue(role))

    assert client.get(PAGE).status_code == 404
    assert client.post(TRAIN).status_code == 404

    assert PredictiveModel.objects.count() == 0
    assert not Lead.objects.filter(predictive_score__isnull=False).exists()


def test_api_trains_lists_and_shows_the_active_model(history, marketing, api_client_for):
    client = api_client_for(marketing)

    trained = client.post(f"{API}/train", {"include": []}, content_type="application/json")
    listed = client.get(API)
    active = client.get(f"{API}/active")

    assert trained.status_code == 201
    body = trained.json()
    model = PredictiveModel.objects.get(is_active=True)
    assert body["id"] == model.pk
    assert body["scored"] == 12
    assert body["excluded_fields"] == [LEAK]
    assert body["too_good_to_be_true"] is False
    assert body["report"]["auc"] == model.auc
    assert [m["id"] for m in listed.json()] == [model.pk]
    assert "report" not in listed.json()[0]
    assert active.json()["id"] == model.pk
    assert len(active.json()["report"]["lift"]) == 10


def test_api_include_flags_a_model_that_is_too_good(history, marketing, api_client_for):
    response = api_client_for(marketing).post(
        f"{API}/train", {"include": [LEAK]}, content_type="application/json"
    )

    assert response.status_code == 201
    assert response.json()["too_good_to_be_true"] is True
    assert response.json()["included_fields"] == [LEAK]


def test_api_too_little_history_is_a_422_problem(db, marketing, api_client_for):
    response = api_client_for(marketing).post(f"{API}/train", {}, content_type="application/json")

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["detail"].startswith("Too little history to learn from")
    assert PredictiveModel.objects.count() == 0


def test_api_active_without_a_model_is_404(db, admin, api_client_for):
    response = api_client_for(admin).get(f"{API}/active")

    assert response.status_code == 404


@pytest.mark.parametrize("role", ["rep", "manager", "partner_user"])
def test_api_refuses_other_roles(history, role, request, api_client_for):
    client = api_client_for(request.getfixturevalue(role))

    train = client.post(f"{API}/train", {}, content_type="application/json")
    listing = client.get(API)

    assert train.status_code == 403
    assert listing.status_code == 403
    assert PredictiveModel.objects.count() == 0
    assert not Lead.objects.filter(predictive_score__isnull=False).exists()
