"""A workflow definition is checked before it is saved: each refusal names the step at fault."""

import copy

import pytest

from leadloop.errors import ValidationFailed
from leadloop.nurture.workflows.services import BROCHURE_FOLLOW_UP
from leadloop.nurture.workflows.services.definition import END, as_json, parse


def _refusal(raw) -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse(raw)
    return str(caught.value)


def test_the_seed_workflow_reads_with_every_exit_made_explicit():
    definition = parse(BROCHURE_FOLLOW_UP)

    assert [s.id for s in definition.steps] == [
        "brochure", "week", "survey", "answer", "bounced", "opened", "call", "called", "discard",
        "answered",
    ]  # fmt: skip
    assert definition.step("brochure").next == "week"
    assert (definition.step("answer").then, definition.step("answer").otherwise) == (
        "answered",
        "bounced",
    )
    assert definition.step("answered").next == END
    assert definition.step("opened").condition.since == "survey"
    # What is stored reads back the same.
    assert parse(as_json(definition)) == definition


def test_a_step_no_path_reaches_is_refused_by_name():
    raw = {
        "steps": [
            {"id": "mail", "type": "send_email", "template": "T", "next": "end"},
            {"id": "orphan", "type": "wait", "days": 1},
        ]
    }

    assert _refusal(raw) == "Step “orphan”: no path leads to this step."


def test_a_loop_without_a_wait_is_refused_and_one_with_a_wait_is_not():
    looping = {
        "steps": [
            {"id": "mail", "type": "send_email", "template": "T"},
            {"id": "check", "type": "branch", "if": {"event": "opened"}, "then": "end",
             "else": "mail"},
        ]
    }  # fmt: skip
    waiting = copy.deepcopy(looping)
    waiting["steps"].insert(1, {"id": "pause", "type": "wait", "days": 3})

    assert "is part of a loop with no wait in it." in _refusal(looping)
    assert parse(waiting).step("check").otherwise == "mail"


def test_a_branch_without_both_exits_is_refused():
    raw = {"steps": [{"id": "check", "type": "branch", "if": {"event": "opened"}, "then": "end"}]}

    assert _refusal(raw) == "Step “check”: a branch needs both exits: “then” and “else”."


def test_a_jump_to_a_step_that_does_not_exist_is_refused():
    raw = {"steps": [{"id": "a", "type": "wait", "days": 1, "next": "b"}]}

    assert _refusal(raw) == "Step “a”: goes to “b”, which is not a step."


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"id": "x", "type": "fly"}, "unknown step type “fly”."),
        ({"id": "x", "type": "wait"}, "say how long to wait"),
        ({"id": "x", "type": "send_email"}, "name the e-mail template to send."),
        ({"id": "x", "type": "wait_for", "event": "opened", "then": "end", "else": "end"},
         "say how long to wait"),
        ({"id": "x", "type": "wait_for", "event": "unsubscribed", "days": 1, "then": "end",
          "else": "end"}, "unknown event “unsubscribed”."),
        ({"id": "x", "type": "set_field", "field": "status", "value": "won"},
         "a workflow may set"),
        ({"id": "x", "type": "set_field", "field": "bant_budget", "value": "lots"},
         "a BANT answer is"),
        ({"id": "x", "type": "set_status", "status": "won"}, "a workflow may set the status to"),
        ({"id": "X Y", "type": "end"}, "an id is"),
        ({"id": "x", "type": "branch", "if": {"field": "owner", "op": "eq", "value": 1},
          "then": "end", "else": "end"}, "one of the lead fields"),
        ({"id": "x", "type": "wait", "until": {"time": "25:00"}}, "HH:MM"),
    ],
)  # fmt: skip
def test_a_step_missing_what_it_needs_is_refused_by_name(step, message):
    assert message in _refusal({"steps": [step]})
    assert "Step “" in _refusal({"steps": [step]})


def test_two_steps_with_one_id_are_refused():
    raw = {"steps": [{"id": "a", "type": "wait", "days": 1}, {"id": "a", "type": "end"}]}

    assert _refusal(raw) == "Step “a”: two steps have this id."


def test_hostile_text_is_kept_as_text():
    raw = {
        "steps": [
            {"id": "x", "type": "disqualify", "reason": "<script>alert(1)</script>'; DROP TABLE"}
        ]
    }

    assert parse(raw).step("x").params["reason"] == "<script>alert(1)</script>'; DROP TABLE"
