"""The survey builder's forms: a survey's texts, one question, one rule (marketing, admins)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy

from leadloop.leads.forms import UIForm
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.surveys.models import Question, QuestionKind, RuleAction, Survey

LANGUAGE_CHOICES = [("en", gettext_lazy("English")), ("nl", gettext_lazy("Dutch"))]


class SurveyForm(UIForm):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=120,
        help_text=gettext_lazy("For you and your colleagues; leads read the title."),
    )
    title_en = forms.CharField(label=gettext_lazy("Title (English)"), max_length=200)
    title_nl = forms.CharField(label=gettext_lazy("Title (Dutch)"), max_length=200, required=False)
    intro_en = forms.CharField(
        label=gettext_lazy("Introduction (English)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    intro_nl = forms.CharField(
        label=gettext_lazy("Introduction (Dutch)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    language = forms.ChoiceField(
        label=gettext_lazy("Default language"),
        choices=LANGUAGE_CHOICES,
        help_text=gettext_lazy("For leads whose language the survey does not speak."),
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active (links to it work)"), required=False)

    @classmethod
    def initial_for(cls, survey: Survey) -> dict[str, Any]:
        return {name: getattr(survey, name) for name in cls.base_fields}

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.base_fields}


def _target_choices() -> list[tuple[str, Any]]:
    return [("", gettext_lazy("Nothing (only stored)"))] + [
        (name, label) for name, label in surveys.TARGETS.items()
    ]


class QuestionForm(UIForm):
    text_en = forms.CharField(label=gettext_lazy("Question (English)"), max_length=300)
    text_nl = forms.CharField(
        label=gettext_lazy("Question (Dutch)"), max_length=300, required=False
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=QuestionKind.choices)
    maps_to = forms.ChoiceField(label=gettext_lazy("Fills lead field"), required=False)
    is_required = forms.BooleanField(label=gettext_lazy("Required"), required=False)
    min_value = forms.DecimalField(
        label=gettext_lazy("Lowest number"), required=False, max_digits=14, decimal_places=2
    )
    max_value = forms.DecimalField(
        label=gettext_lazy("Highest number"), required=False, max_digits=14, decimal_places=2
    )
    choices = forms.CharField(
        label=gettext_lazy("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One per line: English | Dutch | BANT value (met or not_met). "
            "Dutch and BANT may be left out."
        ),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["maps_to"].choices = _target_choices()  # type: ignore[attr-defined]

    @classmethod
    def initial_for(cls, question: Question) -> dict[str, Any]:
        initial = {name: getattr(question, name) for name in cls.base_fields if name != "choices"}
        initial["choices"] = surveys.format_choices(question.choices)
        return initial

    def service_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in self.base_fields}


class RuleForm(UIForm):
    answer = forms.ChoiceField(
        label=gettext_lazy("When the answer is"),
        help_text=gettext_lazy("For a multiple-choice question: when the answers include it."),
    )
    action = forms.ChoiceField(label=gettext_lazy("Then"), choices=RuleAction.choices)
    bant_field = forms.ChoiceField(label=gettext_lazy("BANT field"), required=False)
    bant_value = forms.ChoiceField(
        label=gettext_lazy("BANT value"),
        required=False,
        choices=[("", "—"), ("met", gettext_lazy("Met")), ("not_met", gettext_lazy("Not met"))],
    )
    note = forms.CharField(label=gettext_lazy("Note"), max_length=500, required=False)

    def __init__(self, *args: Any, survey: Survey | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        answers: list[tuple[str, Any]] = []
        if survey is not None:
            for question in survey.questions.all():
                if question.has_choices:
                    answers.append(
                        (
                            question.text_en,
                            [(f"{question.pk}:{c['key']}", c["en"]) for c in question.choices],
                        )
                    )
        self.fields["answer"].choices = answers  # type: ignore[attr-defined]
        bant_fields = [("", "—"), *surveys.BANT_TARGETS.items()]
        self.fields["bant_field"].choices = bant_fields  # type: ignore[attr-defined]

    def service_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        question_id, _sep, choice = data.pop("answer").partition(":")
        return {"question_id": int(question_id), "choice": choice, **data}
