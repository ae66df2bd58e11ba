"""/api/v1/nurture/workflows and `leadloop workflows`: marketing creates, checks, simulates and
activates a workflow; every refusal is problem details naming the step; reps may not touch it."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from leadloop.nurture.workflows.models import Enrollment, Workflow, WorkflowState
from tests.nurture.surveys.conftest import nurturing_lead
from tests.nurture.workflows.conftest import START, at, seed_without_calls

pytestmark = pytest.mark.django_db

BASE = "/api/v1/nurture/workflows"


def test_marketing_creates_simulates_activates_and_enrols_through_the_api(
    api_client_for, marketing, templates, source
):
    api = api_client_for(marketing)

    created = api.post(
        BASE,
        {"name": "Brochure", "definition": seed_without_calls()},
        "application/json",
    )
    workflow_id = created.json()["id"]
    simulated = api.post(
        f"{BASE}/{workflow_id}/simulate",
        {
            "scenarios": [{"name": "Opens", "events": "opened@9"}, {"name": "Idle"}],
            "start": START.isoformat(),
        },
        "application/json",
    )
    activated = api.post(f"{BASE}/{workflow_id}/activate")
    lead = nurturing_lead(source, email="api@example.com")
    enrolled = api.post(
        f"{BASE}/{workflow_id}/enrollments", {"lead_ids": [lead.pk]}, "application/json"
    )
    again = api.post(
        f"{BASE}/{workflow_id}/enrollments", {"lead_ids": [lead.pk]}, "application/json"
    )
    listed = api.get(f"{BASE}/{workflow_id}/enrollments")

    assert created.status_code == 201
    assert created.json()["latest_version"]["number"] == 1
    assert created.json()["state"] == "draft"
    runs = {r["label"]: r for r in simulated.json()["runs"]}
    assert [h["step"] for h in runs["Opens"]["path"]][-2:] == ["call", "answered"]
    assert runs["Idle"]["outcome"] == "disqualify"
    assert {"step": "opened", "outcome": "yes", "leads": 1} in simulated.json()["branches"]
    assert activated.status_code == 200
    assert (activated.json()["state"], activated.json()["active_version"]) == ("active", 1)
    assert enrolled.json() == {"enrolled": 1, "skipped": 0}
    assert again.json() == {"enrolled": 0, "skipped": 1}
    assert [e["lead_id"] for e in listed.json()] == [lead.pk]


def test_a_definition_with_an_unreachable_step_is_refused_with_the_step_named(
    api_client_for, marketing
):
    api = api_client_for(marketing)
    workflow_id = api.post(
        BASE, {"name": "W", "template": "brochure-follow-up"}, "application/json"
    ).json()["id"]

    refused = api.put(
        f"{BASE}/{workflow_id}/definition",
        {
            "definition": {
                "steps": [{"id": "a", "type": "end"}, {"id": "b", "type": "wait", "days": 1}]
            }
        },
        "application/json",
    )

    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert refused.json()["detail"] == "Step “b”: no path leads to this step."
    assert Workflow.objects.get(pk=workflow_id).versions.count() == 1


def test_activation_is_refused_while_a_template_the_steps_name_is_missing(
    api_client_for, marketing
):
    api = api_client_for(marketing)
    workflow_id = api.post(
        BASE,
        {
            "name": "Nothing there",
            "definition": {"steps": [{"id": "m", "type": "send_email", "template": "Ghost"}]},
        },
        "application/json",
    ).json()["id"]

    refused = api.post(f"{BASE}/{workflow_id}/activate")

    assert refused.status_code == 422
    assert refused.json()["detail"] == "Step “m”: there is no active e-mail template “Ghost”."
    assert Workflow.objects.get(pk=workflow_id).state == WorkflowState.DRAFT


def test_a_rep_may_not_read_or_change_workflows(api_client_for, rep, marketing):
    api = api_client_for(rep)
    made = api_client_for(marketing).post(
        BASE, {"name": "Private", "template": "brochure-follow-up"}, "application/json"
    )

    listed = api.get(BASE)
    created = api.post(BASE, {"name": "Mine", "template": "brochure-follow-up"}, "application/json")
    one = api.get(f"{BASE}/{made.json()['id']}")

    assert (listed.status_code, created.status_code, one.status_code) == (403, 403, 403)
    assert Workflow.objects.count() == 1


def test_an_enrolment_shows_the_path_its_lead_took(
    api_client_for, marketing, seed_workflow, inbox, source
):
    from leadloop.nurture.workflows.services import live
    from tests.nurture.workflows.conftest import run

    with at(START):
        lead = nurturing_lead(source, email="path@example.com")
        live.enroll_on_trigger([lead.pk], on="nurturing")
    run(START)
    enrollment = Enrollment.objects.get(lead=lead)

    shown = api_client_for(marketing).get(f"{BASE}/{seed_workflow.pk}/enrollments/{enrollment.pk}")

    assert shown.json()["step"] == "week"
    assert [(h["step"], h["outcome"]) for h in shown.json()["path"]] == [("brochure", "queued")]


def test_the_cli_creates_simulates_and_activates(templates, tmp_path):
    definition = tmp_path / "nurture.json"
    definition.write_text(json.dumps(seed_without_calls()), encoding="utf-8")
    out = StringIO()

    call_command("workflows", "create", "From file", "--file", str(definition), stdout=out)
    call_command(
        "workflows", "simulate", "From file", "--scenario", "Opens: opened@9",
        "--scenario", "Idle:", stdout=out,
    )  # fmt: skip
    call_command("workflows", "activate", "From file", stdout=out)
    call_command("workflows", "list", stdout=out)

    text = out.getvalue()
    assert "Created draft From file." in text
    assert "Opens: brochure:queued → week:waited → survey:queued → answer:no" in text
    assert "=> disqualify" in text
    assert "From file: version 1 is active." in text
    assert "From file  [active, v1]  0 in it now, 0 in total" in text


def test_the_cli_fails_with_the_step_named_when_activation_is_refused(marketing):
    call_command(
        "workflows", "create", "Seed", "--template", "brochure-follow-up", stdout=StringIO()
    )

    with pytest.raises(CommandError, match="Step “brochure”: there is no active e-mail template"):
        call_command("workflows", "activate", "Seed", stdout=StringIO())
    with pytest.raises(CommandError, match="No workflow 'Nope'"):
        call_command("workflows", "pause", "Nope", stdout=StringIO())
