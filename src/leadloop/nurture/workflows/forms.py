"""The workflow pages' forms: a workflow's name, its trigger, one step, the whole definition as
JSON, a simulation and enrolling leads by hand."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from leadloop.leads.forms import UIForm
from leadloop.nurture.workflows.services.definition import (
    BANT_VALUES,
    EVENTS,
    FIELDS,
    OPERATORS,
    SETTABLE_FIELDS,
    SETTABLE_STATUSES,
    WAIT_EVENTS,
)

STEP_LABELS = {
    "wait": gettext_lazy("Wait"),
    "send_email": gettext_lazy("Send an e-mail"),
    "send_survey": gettext_lazy("Send a survey"),
    "wait_for": gettext_lazy("Wait for an event, with a deadline"),
    "branch": gettext_lazy("Branch on a condition"),
    "add_to_call_list": gettext_lazy("Add to a call list"),
    "set_field": gettext_lazy("Set a field or BANT"),
    "set_status": gettext_lazy("Set the status"),
    "route_to_sales": gettext_lazy("Route to sales"),
    "disqualify": gettext_lazy("Disqualify"),
    "notify": gettext_lazy("Notify a person"),
    "end": gettext_lazy("End"),
}
EVENT_LABELS = {
    "opened": gettext_lazy("opened a mail"),
    "clicked": gettext_lazy("clicked a link"),
    "answered": gettext_lazy("answered the survey"),
    "bounced": gettext_lazy("the mail bounced"),
    "unsubscribed": gettext_lazy("unsubscribed"),
    "call_outcome": gettext_lazy("a call ended with an outcome"),
}
TRIGGER_LABELS = {
    "nurturing": gettext_lazy("A lead becomes nurturing"),
    "created": gettext_lazy("A new lead starts in nurturing"),
    "manual": gettext_lazy("Only leads enrolled by hand"),
}
WEEKDAYS = [
    ("0", gettext_lazy("Mon")),
    ("1", gettext_lazy("Tue")),
    ("2", gettext_lazy("Wed")),
    ("3", gettext_lazy("Thu")),
    ("4", gettext_lazy("Fri")),
    ("5", gettext_lazy("Sat")),
    ("6", gettext_lazy("Sun")),
]


class WorkflowForm(UIForm):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=120)
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class NewWorkflowForm(WorkflowForm):
    start = forms.ChoiceField(
        label=gettext_lazy("Start from"),
        choices=[
            ("blank", gettext_lazy("An empty workflow")),
            ("brochure-follow-up", gettext_lazy("The brochure → survey → call template")),
        ],
        initial="brochure-follow-up",
    )


def _exit_choices(step_ids: Sequence[str]) -> list[tuple[str, Any]]:
    return [(i, i) for i in step_ids] + [("end", gettext_lazy("end of the workflow"))]


class StepForm(UIForm):
    """One step's settings; which fields show depends on the step's type."""

    id = forms.SlugField(label=gettext_lazy("Step id"), max_length=40)

    def __init__(
        self,
        *args: Any,
        step_type: str,
        step_ids: Sequence[str],
        templates: Sequence[str],
        call_lists: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.step_type = step_type
        exits = _exit_choices(step_ids)
        text = forms.CharField
        if step_type == "wait":
            self.fields["days"] = forms.IntegerField(
                label=gettext_lazy("Days"), min_value=0, required=False
            )
            self.fields["hours"] = forms.IntegerField(
                label=gettext_lazy("Hours"), min_value=0, required=False
            )
            self.fields["minutes"] = forms.IntegerField(
                label=gettext_lazy("Minutes"), min_value=0, required=False
            )
            self.fields["until_time"] = text(
                label=gettext_lazy("Or until a time (HH:MM)"), required=False, max_length=5
            )
            self.fields["until_weekdays"] = forms.MultipleChoiceField(
                label=gettext_lazy("on these days"),
                choices=WEEKDAYS,
                required=False,
                widget=forms.CheckboxSelectMultiple,
            )
        if step_type in ("send_email", "send_survey"):
            self.fields["template"] = forms.ChoiceField(
                label=gettext_lazy("E-mail template"), choices=[(t, t) for t in templates]
            )
        if step_type == "wait_for":
            self.fields["event"] = forms.ChoiceField(
                label=gettext_lazy("Wait until"),
                choices=[(e, EVENT_LABELS[e]) for e in WAIT_EVENTS],
            )
            self.fields["days"] = forms.IntegerField(
                label=gettext_lazy("at most days"), min_value=0, required=False
            )
            self.fields["hours"] = forms.IntegerField(
                label=gettext_lazy("and hours"), min_value=0, required=False
            )
        if step_type == "branch":
            self.fields["event"] = forms.ChoiceField(
                label=gettext_lazy("If the lead"),
                choices=[("", gettext_lazy("— a field instead —"))]
                + [(e, EVENT_LABELS[e]) for e in EVENTS],
                required=False,
            )
            self.fields["field"] = forms.ChoiceField(
                label=gettext_lazy("or if the field"),
                choices=[("", "—")] + [(f, f) for f in FIELDS],
                required=False,
            )
            self.fields["op"] = forms.ChoiceField(
                label=gettext_lazy("is"), choices=[(o, o) for o in OPERATORS], required=False
            )
            self.fields["value"] = text(label=gettext_lazy("Value"), required=False, max_length=200)
        if step_type in ("wait_for", "branch"):
            self.fields["since"] = forms.ChoiceField(
                label=gettext_lazy("Count mail events from step"),
                choices=[("", gettext_lazy("the start"))] + [(i, i) for i in step_ids],
                required=False,
            )
            self.fields["question"] = forms.IntegerField(
                label=gettext_lazy("Survey question id (answered)"), required=False, min_value=1
            )
            self.fields["answer"] = text(
                label=gettext_lazy("Answer (choice key or value)"), required=False, max_length=100
            )
            self.fields["call_list"] = forms.ChoiceField(
                label=gettext_lazy("Call list (call outcome)"),
                choices=[("", "—")] + [(c, c) for c in call_lists],
                required=False,
            )
            self.fields["outcomes"] = text(
                label=gettext_lazy("Call outcomes that count (comma-separated)"),
                required=False,
                max_length=200,
            )
            self.fields["then"] = forms.ChoiceField(label=gettext_lazy("Yes: go to"), choices=exits)
            self.fields["else"] = forms.ChoiceField(label=gettext_lazy("No: go to"), choices=exits)
        if step_type == "add_to_call_list":
            self.fields["call_list"] = forms.ChoiceField(
                label=gettext_lazy("Call list"), choices=[(c, c) for c in call_lists]
            )
        if step_type == "set_field":
            self.fields["field"] = forms.ChoiceField(
                label=gettext_lazy("Field"), choices=[(f, f) for f in sorted(SETTABLE_FIELDS)]
            )
            self.fields["value"] = text(
                label=gettext_lazy("Value (BANT: %(values)s)")
                % {"values": ", ".join(v for v in BANT_VALUES if v)},
                required=False,
                max_length=200,
            )
        if step_type == "set_status":
            self.fields["status"] = forms.ChoiceField(
                label=gettext_lazy("Status"), choices=[(s, s) for s in SETTABLE_STATUSES]
            )
        if step_type == "disqualify":
            self.fields["reason"] = text(
                label=gettext_lazy("Reason"), required=False, max_length=200
            )
        if step_type == "notify":
            self.fields["user"] = text(label=gettext_lazy("User name"), max_length=150)
            self.fields["message"] = text(
                label=gettext_lazy("Message"), required=False, max_length=300
            )
        if step_type not in ("wait_for", "branch", "end"):
            self.fields["next"] = forms.ChoiceField(
                label=gettext_lazy("Then go to"), choices=exits, required=False
            )

    @staticmethod
    def initial_for(step: dict[str, Any]) -> dict[str, Any]:
        initial = dict(step)
        condition = step.get("if") if step.get("type") == "branch" else step
        if isinstance(condition, dict):
            for key in (
                "event",
                "field",
                "op",
                "value",
                "since",
                "question",
                "answer",
                "call_list",
            ):
                if key in condition:
                    initial[key] = condition[key]
            if condition.get("outcomes"):
                initial["outcomes"] = ", ".join(condition["outcomes"])
        until = step.get("until")
        if isinstance(until, dict):
            initial["until_time"] = until.get("time", "")
            initial["until_weekdays"] = [str(d) for d in until.get("weekdays", [])]
        return initial

    def step_values(self) -> dict[str, Any]:
        """The step as the definition stores it (the services check it)."""
        data = {k: v for k, v in self.cleaned_data.items() if v not in (None, "", [])}
        out: dict[str, Any] = {"id": data.pop("id")}
        if data.get("until_time"):
            out["until"] = {
                "time": data.pop("until_time"),
                "weekdays": [int(d) for d in data.pop("until_weekdays", [])],
            }
            for unit in ("days", "hours", "minutes"):
                data.pop(unit, None)
        data.pop("until_weekdays", None)
        condition_keys = (
            "event",
            "field",
            "op",
            "value",
            "since",
            "question",
            "answer",
            "outcomes",
        )
        condition: dict[str, Any] = {}
        if self.step_type in ("wait_for", "branch"):
            for key in (*condition_keys, "call_list"):
                if key in data:
                    condition[key] = data.pop(key)
            if "outcomes" in condition:
                condition["outcomes"] = [
                    o.strip() for o in str(condition["outcomes"]).split(",") if o.strip()
                ]
            if self.step_type == "branch" and condition.get("event"):
                for key in ("field", "op", "value"):
                    condition.pop(key, None)
        if self.step_type == "branch":
            out["if"] = condition
        else:
            out.update(condition)
        out.update(data)
        return out


class TriggerForm(UIForm):
    on = forms.ChoiceField(
        label=gettext_lazy("Leads enter when"), choices=list(TRIGGER_LABELS.items())
    )
    sources = forms.MultipleChoiceField(
        label=gettext_lazy("Only from these sources (none: all)"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    conditions = forms.CharField(
        label=gettext_lazy("Only leads whose fields match (one per line: field op value)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "placeholder": "country eq NL"}),
    )

    def __init__(self, *args: Any, sources: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sources"].choices = [(str(pk), name) for pk, name in sources]  # type: ignore[attr-defined]

    @staticmethod
    def initial_for(trigger: dict[str, Any]) -> dict[str, Any]:
        lines = []
        for c in trigger.get("conditions", []):
            value = c.get("value")
            if isinstance(value, list):
                value = ",".join(str(v) for v in value)
            lines.append(
                " ".join(
                    str(p) for p in (c.get("field"), c.get("op"), value) if p not in (None, "")
                )
            )
        return {
            "on": trigger.get("on", "manual"),
            "sources": [str(s) for s in trigger.get("sources", [])],
            "conditions": "\n".join(lines),
        }

    def trigger(self) -> dict[str, Any]:
        conditions = []
        for line in str(self.cleaned_data.get("conditions") or "").splitlines():
            parts = line.split(None, 2)
            if not parts:
                continue
            item: dict[str, Any] = {"field": parts[0], "op": parts[1] if len(parts) > 1 else "eq"}
            if len(parts) > 2:
                value = parts[2].strip()
                item["value"] = (
                    [v.strip() for v in value.split(",")] if item["op"] == "in" else value
                )
            conditions.append(item)
        return {
            "on": self.cleaned_data["on"],
            "sources": [int(s) for s in self.cleaned_data.get("sources") or []],
            "conditions": conditions,
        }


class DefinitionForm(UIForm):
    definition = forms.CharField(
        label=gettext_lazy("Definition (JSON)"),
        widget=forms.Textarea(attrs={"rows": 18, "class": "mono", "spellcheck": "false"}),
        max_length=200_000,
    )
    note = forms.CharField(label=gettext_lazy("What changed"), required=False, max_length=200)

    @staticmethod
    def initial_for(definition: dict[str, Any]) -> dict[str, Any]:
        return {"definition": json.dumps(definition, indent=2, ensure_ascii=False)}

    def clean_definition(self) -> Any:
        try:
            return json.loads(self.cleaned_data["definition"])
        except ValueError as exc:
            raise forms.ValidationError(gettext_lazy("This is not valid JSON.")) from exc


class AddStepForm(UIForm):
    step_type = forms.ChoiceField(
        label=gettext_lazy("Add a step"), choices=list(STEP_LABELS.items())
    )
    after = forms.CharField(required=False, widget=forms.HiddenInput)
    exit = forms.ChoiceField(
        required=False,
        choices=[("next", "next"), ("then", "then"), ("else", "else")],
        widget=forms.HiddenInput,
    )


class SimulateForm(UIForm):
    scenarios = forms.CharField(
        label=gettext_lazy("Scenarios (one per line: name: events)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        initial="Nothing happens:\nOpens the survey: opened@9\nWants a quote: answered@8\n"
        "Bounces: bounced@7.1",
        help_text=gettext_lazy(
            "Events in days after the lead enters: opened@2, clicked@2.5, answered@3, "
            "answered:12=a-quote@3, bounced@0.1, unsubscribed@4, call:qualified@10."
        ),
    )
    sample = forms.IntegerField(
        label=gettext_lazy("And this many real nurturing leads"),
        min_value=0,
        max_value=500,
        required=False,
        initial=20,
    )
    sample_scenario = forms.CharField(
        label=gettext_lazy("What the real leads do"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("Events as above; empty: nothing."),
    )

    def scenario_rows(self) -> list[tuple[str, str]]:
        rows = []
        for line in str(self.cleaned_data.get("scenarios") or "").splitlines():
            if not line.strip():
                continue
            name, sep, events = line.partition(":")
            rows.append((name.strip(), events if sep else ""))
        return rows


class EnrollForm(UIForm):
    q = forms.CharField(
        label=gettext_lazy("Nurturing leads matching"),
        required=False,
        max_length=200,
        help_text=gettext_lazy(
            "Search as on the lead list; empty: every nurturing lead (at most 10,000)."
        ),
    )
    source = forms.TypedChoiceField(
        label=gettext_lazy("Source"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args: Any, sources: Sequence[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "—")] + [(str(pk), name) for pk, name in sources]  # type: ignore[attr-defined]
