"""/api/v1/assessment/models: train the predictive model, list the models, read the active one.

Marketing and admins only (403 for everyone else). Training runs in the request and answers with
the stored model and its report; at a year's history it takes seconds.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor
from leadloop.assessment.models import PredictiveModel
from leadloop.assessment.predictive import services as predictive
from leadloop.errors import NotFound

router = Router()


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


class TrainIn(Schema):
    model_config = ConfigDict(extra="forbid")
    include: list[str] = Field(
        default_factory=list,
        description="Fields to use although the leakage check leaves them out "
        "(e.g. extra.contract_number, activity.call)",
    )


class ModelSummary(Schema):
    id: int
    trained_at: dt.datetime
    trained_by: str | None
    is_active: bool
    auc: float | None
    training_size: int
    included_fields: list[str]
    excluded_fields: list[str] = Field(description="Left out by the leakage check")
    too_good_to_be_true: bool


class ModelOut(ModelSummary):
    report: dict[str, Any]


class TrainOut(ModelOut):
    scored: int = Field(description="Open leads scored with the new model")


def _summary(model: PredictiveModel) -> dict[str, Any]:
    report = model.report or {}
    return {
        "id": model.pk,
        "trained_at": model.trained_at,
        "trained_by": model.trained_by.username if model.trained_by else None,
        "is_active": model.is_active,
        "auc": model.auc,
        "training_size": model.training_size,
        "included_fields": list(model.included_fields or []),
        "excluded_fields": [item["field"] for item in report.get("excluded", [])],
        "too_good_to_be_true": any(w["code"] == "too_good" for w in report.get("warnings", [])),
    }


@router.post(
    "/train",
    response={201: TrainOut},
    summary="Train on the closed leads, make the model active and score every open lead",
)
def train(request: HttpRequest, payload: TrainIn) -> Status:
    model, scored = predictive.train_and_score(by=_actor(request), include=payload.include)
    return Status(201, TrainOut(**_summary(model), report=model.report, scored=scored))


@router.get("", response=list[ModelSummary], summary="Every trained model, newest first")
def list_models(request: HttpRequest) -> list[ModelSummary]:
    models = predictive.list_models(_actor(request))[:100]
    return [ModelSummary(**_summary(m)) for m in models]


@router.get("/active", response=ModelOut, summary="The model that scores leads now, with report")
def active_model(request: HttpRequest) -> ModelOut:
    model = predictive.get_active_model(_actor(request))
    if model is None:
        raise NotFound("No predictive model has been trained yet.")
    return ModelOut(**_summary(model), report=model.report)
