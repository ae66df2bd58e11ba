"""Surveys: questions marketing asks a lead on a public page behind a signed link.

Answers land on the lead: mapped questions fill lead fields and BANT through the leads services,
the timeline records the survey, and rules on an answer can make the lead sales-ready.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

__all__ = [
    "Question",
    "QuestionKind",
    "ResponseState",
    "Rule",
    "RuleAction",
    "Survey",
    "SurveyResponse",
]

LANGUAGES = ("en", "nl")


class QuestionKind(models.TextChoices):
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")


class RuleAction(models.TextChoices):
    SALES_READY = "sales_ready", _("Make the lead sales-ready")
    SET_BANT = "set_bant", _("Set a BANT value")
    ADD_NOTE = "add_note", _("Add a note to the timeline")


class ResponseState(models.TextChoices):
    RECEIVED = "received", _("Received")
    INVALID = "invalid", _("Not valid")
    APPLIED = "applied", _("Applied to the lead")
    REFUSED = "refused", _("Refused (already answered)")


class Survey(models.Model):
    """A survey: questions in English and Dutch that a lead answers on their own page."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    title_en = models.CharField(_("title (English)"), max_length=200)
    title_nl = models.CharField(_("title (Dutch)"), max_length=200, blank=True, default="")
    intro_en = models.TextField(_("introduction (English)"), blank=True, default="")
    intro_nl = models.TextField(_("introduction (Dutch)"), blank=True, default="")
    # The language of a lead whose own language the survey does not speak.
    language = models.CharField(_("default language"), max_length=8, default="en")
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("survey")

    def __str__(self) -> str:
        return self.name

    def title_in(self, language: str) -> str:
        return (self.title_nl if language == "nl" else "") or self.title_en

    def intro_in(self, language: str) -> str:
        return (self.intro_nl if language == "nl" else "") or self.intro_en


class Question(models.Model):
    """One question of a survey, optionally filling a lead field or a BANT answer.

    `choices` is a list of {"key", "en", "nl", "bant"}: the key is what an answer and a rule
    name, the labels what the lead reads, `bant` the BANT value a choice stands for.
    """

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=QuestionKind.choices)
    text_en = models.CharField(_("question (English)"), max_length=300)
    text_nl = models.CharField(_("question (Dutch)"), max_length=300, blank=True, default="")
    is_required = models.BooleanField(_("required"), default=False)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    maps_to = models.CharField(_("fills lead field"), max_length=40, blank=True, default="")
    min_value = models.DecimalField(
        _("lowest number"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    max_value = models.DecimalField(
        _("highest number"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("survey question")

    def __str__(self) -> str:
        return self.text_en

    def text_in(self, language: str) -> str:
        return (self.text_nl if language == "nl" else "") or self.text_en

    @property
    def field_name(self) -> str:
        """The input's name on the public page and in the API's answers."""
        return f"q{self.pk}"

    @property
    def has_choices(self) -> bool:
        return self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE)

    def choice_label(self, key: str, language: str) -> str:
        for choice in self.choices or []:
            if choice.get("key") == key:
                return str((choice.get(language) if language == "nl" else "") or choice["en"])
        return key


class Rule(models.Model):
    """What an answer sets off: when `question`'s answer is (or contains) `choice`, do `action`."""

    survey = models.ForeignKey(Survey, on_delete=models.CASCADE, related_name="rules")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="rules")
    choice = models.CharField(_("answer"), max_length=60)
    action = models.CharField(_("then"), max_length=20, choices=RuleAction.choices)
    bant_field = models.CharField(_("BANT field"), max_length=20, blank=True, default="")
    bant_value = models.CharField(_("BANT value"), max_length=8, blank=True, default="")
    note = models.CharField(_("note"), max_length=500, blank=True, default="")

    class Meta:
        ordering = ["pk"]
        verbose_name = _("survey rule")

    def __str__(self) -> str:
        return f"{self.question} = {self.choice} → {self.action}"


class SurveyResponse(models.Model):
    """One submission of a survey by a lead, kept raw before anything is checked.

    `answers` keeps each answer with the question's text and kind as the lead saw them, so a
    later edit of the survey cannot change what an answer meant.
    """

    survey = models.ForeignKey(Survey, on_delete=models.PROTECT, related_name="responses")
    lead = models.ForeignKey(
        "leads.Lead", on_delete=models.CASCADE, related_name="survey_responses"
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ResponseState.choices, default=ResponseState.RECEIVED
    )
    via = models.CharField(_("via"), max_length=10, default="page")
    language = models.CharField(_("language"), max_length=8, default="en")
    raw = models.TextField(_("as received"), blank=True, default="")
    content_type = models.CharField(max_length=200, blank=True, default="")
    answers = models.JSONField(_("answers"), default=list, blank=True)
    errors = models.JSONField(_("errors"), default=dict, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = _("survey response")
        indexes = [models.Index(fields=["lead", "survey"], name="surveyresponse_lead_survey")]
        constraints = [
            # A lead answers a survey once; a second submission is kept, refused (see docs).
            models.UniqueConstraint(
                fields=["lead", "survey"],
                condition=Q(state="applied"),
                name="surveyresponse_applied_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.survey} / {self.lead_id}"
