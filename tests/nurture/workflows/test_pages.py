"""The workflow pages: marketing creates a workflow, edits its ordered list of steps one step at
a time (a refused change shows the step named), simulates and activates it; others may not."""

from __future__ import annotations

import pytest

from leadloop.nurture.workflows import services as workflows
from leadloop.nurture.workflows.models import Workflow, WorkflowState
from tests.nurture.workflows.conftest import seed_without_calls

pytestmark = pytest.mark.django_db

HOSTILE = '<script>alert("wf")</script>'


@pytest.fixture
def draft(marketing, templates):
    return workflows.create_workflow(
        by=marketing, name=f"Seed {HOSTILE}", definition=seed_without_calls()
    )


def test_the_list_and_the_page_show_the_steps_escaped(logged_in_client, marketing, draft):
    client = logged_in_client(marketing)

    listed = client.get("/nurture/workflows/")
    page = client.get(f"/nurture/workflows/{draft.pk}/")

    assert listed.status_code == page.status_code == 200
    assert HOSTILE not in listed.text + page.text
    assert "&lt;script&gt;alert(&quot;wf&quot;)&lt;/script&gt;" in page.text
    assert page.text.index('id="step-brochure"') < page.text.index('id="step-week"')
    assert "Activate version 1" in page.text


def test_a_rep_is_refused(logged_in_client, rep, draft):
    client = logged_in_client(rep)

    assert client.get("/nurture/workflows/").status_code == 403
    assert client.get(f"/nurture/workflows/{draft.pk}/").status_code == 403
    assert client.post(f"/nurture/workflows/{draft.pk}/activate/").status_code == 403
    assert Workflow.objects.get(pk=draft.pk).state == WorkflowState.DRAFT


def test_editing_a_step_of_an_active_workflow_makes_a_new_version(
    logged_in_client, marketing, draft
):
    client = logged_in_client(marketing)
    client.post(f"/nurture/workflows/{draft.pk}/activate/")

    form = client.get(f"/nurture/workflows/{draft.pk}/steps/week/", headers={"HX-Request": "true"})
    saved = client.post(
        f"/nurture/workflows/{draft.pk}/steps/week/",
        {"step-id": "week", "step-days": "3", "step-next": "survey"},
        headers={"HX-Request": "true"},
    )

    assert form.status_code == 200
    assert 'name="step-days"' in form.text
    assert saved.status_code == 204
    assert saved["HX-Redirect"] == f"/nurture/workflows/{draft.pk}/"
    versions = list(draft.versions.order_by("number"))
    assert [v.number for v in versions] == [1, 2]
    assert versions[0].definition["steps"][1]["days"] == 7
    assert versions[1].definition["steps"][1]["days"] == 3
    assert versions[1].activated_at is None


def test_a_change_that_leaves_a_step_unreachable_is_shown_with_the_step_named(
    logged_in_client, marketing, draft
):
    client = logged_in_client(marketing)

    refused = client.post(
        f"/nurture/workflows/{draft.pk}/steps/brochure/",
        {"step-id": "brochure", "step-template": "Brochure", "step-next": "survey"},
    )

    assert refused.status_code == 422
    assert "Step “week”: no path leads to this step." in refused.text
    assert draft.versions.get().definition["steps"][0]["next"] == "week"


def test_a_step_added_after_another_is_wired_in_between(logged_in_client, marketing, draft):
    client = logged_in_client(marketing)

    client.post(
        f"/nurture/workflows/{draft.pk}/steps/",
        {"step_type": "wait", "after": "brochure", "exit": "next"},
    )

    steps = draft.versions.get().definition["steps"]
    assert [s["id"] for s in steps[:3]] == ["brochure", "wait-1", "week"]
    assert (steps[0]["next"], steps[1]["next"], steps[1]["days"]) == ("wait-1", "week", 1)


def test_removing_a_step_sends_its_jumps_onward(logged_in_client, marketing, draft):
    client = logged_in_client(marketing)

    client.post(f"/nurture/workflows/{draft.pk}/steps/week/remove/")

    steps = draft.versions.get().definition["steps"]
    assert steps[0]["next"] == "survey"
    assert "week" not in [s["id"] for s in steps]


def test_the_simulator_answers_in_place(logged_in_client, marketing, draft):
    client = logged_in_client(marketing)

    answer = client.post(
        f"/nurture/workflows/{draft.pk}/simulate/",
        {"scenarios": f"{HOSTILE}: opened@9\nIdle:", "sample": "0"},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 200
    assert answer.text.lstrip().startswith('<div id="simulation"')
    assert "&lt;script&gt;" in answer.text
    assert HOSTILE not in answer.text
    assert "<code>opened</code> yes" in answer.text
    assert "disqualify" in answer.text


def test_a_bad_scenario_is_shown_on_the_form(logged_in_client, marketing, draft):
    answer = logged_in_client(marketing).post(
        f"/nurture/workflows/{draft.pk}/simulate/",
        {"scenarios": "Odd: flew@2", "sample": "0"},
        headers={"HX-Request": "true"},
    )

    assert answer.status_code == 422
    assert "“flew@2” is not an event" in answer.text
