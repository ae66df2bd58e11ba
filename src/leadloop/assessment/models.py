"""What marketing and sales configure for assessment, and what assessment keeps between leads.

A lead's own results (findings, fraud score, grade, scores, priority, hold) are columns and one
JSON document on the lead itself: one write per lead at intake instead of a row per finding.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadloop.leads.models import Lead, Source


class DuplicateAction(models.TextChoices):
    MERGE = "merge", _("Merge into the existing lead")
    REVIEW = "review", _("Keep it, flagged for review")
    ALLOW = "allow", _("Keep it, not flagged")


class SourcePolicy(models.Model):
    """How one source's leads are judged: fraud thresholds and what a duplicate does at intake."""

    source = models.OneToOneField(
        Source, primary_key=True, on_delete=models.CASCADE, related_name="policy"
    )
    fraud_review_at = models.PositiveSmallIntegerField(_("review from fraud score"), default=40)
    fraud_reject_at = models.PositiveSmallIntegerField(_("reject from fraud score"), default=80)
    on_duplicate = models.CharField(
        _("a duplicate at intake"),
        max_length=10,
        choices=DuplicateAction.choices,
        default=DuplicateAction.REVIEW,
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("source policy")
        constraints = [
            models.CheckConstraint(
                condition=Q(fraud_review_at__lte=100) & Q(fraud_reject_at__lte=101),
                name="policy_thresholds_in_range",
            ),
        ]

    def __str__(self) -> str:
        return f"policy of source {self.source_id}"


class ScoringSettings(models.Model):
    """The one row of scoring settings marketing and sales agree on (pk is always 1).

    Grade thresholds turn fit points into A–D; the readiness rule decides `sales_ready`.
    """

    grade_a_from = models.IntegerField(_("grade A from (points)"), default=60)
    grade_b_from = models.IntegerField(_("grade B from (points)"), default=35)
    grade_c_from = models.IntegerField(_("grade C from (points)"), default=15)
    engagement_half_life_days = models.PositiveSmallIntegerField(
        _("engagement half-life (days)"), default=30
    )
    ready_grades = models.CharField(_("sales-ready grades"), max_length=4, default="AB")
    ready_min_engagement = models.IntegerField(_("sales-ready from engagement score"), default=0)
    ready_min_bant = models.PositiveSmallIntegerField(_("BANT criteria met, at least"), default=3)
    ready_min_predictive = models.FloatField(
        _("predicted chance at least (0–1)"), null=True, blank=True
    )
    # Fraud rules: code → weight (0 turns a rule off); missing codes use the built-in weights.
    fraud_weights = models.JSONField(_("fraud rule weights"), default=dict, blank=True)
    velocity_window_minutes = models.PositiveIntegerField(
        _("velocity window (minutes)"), default=60
    )
    velocity_limit = models.PositiveSmallIntegerField(
        _("more leads than this in the window is suspect"), default=3
    )
    check_mx = models.BooleanField(_("look up the e-mail domain's mail server"), default=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("scoring settings")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="scoring_settings_single_row"),
            models.CheckConstraint(condition=Q(ready_min_bant__lte=4), name="ready_bant_max_4"),
        ]

    def __str__(self) -> str:
        return "scoring settings"


class GradingField(models.TextChoices):
    COUNTRY = "country", _("Country")
    EMPLOYEES = "employees", _("Organisation size (employees)")
    INDUSTRY = "industry", _("Industry")
    JOB_TITLE = "job_title", _("Job title")
    SOURCE = "source", _("Source")
    COMPANY = "company_name", _("Company name")
    EMAIL_KIND = "email_kind", _("E-mail kind (business, free, disposable, role)")
    EXTRA = "extra", _("Extra field")


class Operator(models.TextChoices):
    EQUALS = "equals", _("is")
    IN = "in", _("is one of (comma-separated)")
    CONTAINS = "contains", _("contains")
    AT_LEAST = "gte", _("is at least")
    AT_MOST = "lte", _("is at most")
    IS_SET = "is_set", _("is filled in")
    NOT_SET = "not_set", _("is empty")


class GradingRule(models.Model):
    """A profile rule: when the lead's field matches, it earns (or loses) fit points."""

    field = models.CharField(_("field"), max_length=20, choices=GradingField.choices)
    extra_key = models.CharField(_("extra field name"), max_length=100, blank=True, default="")
    operator = models.CharField(_("operator"), max_length=10, choices=Operator.choices)
    value = models.CharField(_("value"), max_length=500, blank=True, default="")
    points = models.IntegerField(_("points"))
    is_active = models.BooleanField(_("active"), default=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name = _("grading rule")

    def __str__(self) -> str:
        return f"{self.field} {self.operator} {self.value} → {self.points:+d}"


class EngagementEvent(models.TextChoices):
    FORM_SUBMITTED = "form_submitted", _("Form submitted")
    EMAIL_OPENED = "email_opened", _("E-mail opened")
    EMAIL_CLICKED = "email_clicked", _("E-mail link clicked")
    PAGE_VISIT = "page_visit", _("Page visited")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")


class EngagementRule(models.Model):
    """Behaviour that earns engagement points; repeatable rules count every time, with decay."""

    event = models.CharField(_("event"), max_length=20, choices=EngagementEvent.choices)
    # Optional: only events whose data mentions this (a page path, a form name, a link).
    match = models.CharField(_("only when it mentions"), max_length=200, blank=True, default="")
    points = models.IntegerField(_("points"))
    is_repeatable = models.BooleanField(_("counts every time"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["event", "id"]
        verbose_name = _("engagement rule")

    def __str__(self) -> str:
        return f"{self.event} → {self.points:+d}"


class BlockKind(models.TextChoices):
    EMAIL_DOMAIN = "email_domain", _("E-mail domain")
    EMAIL = "email", _("E-mail address")
    IP = "ip", _("IP address or network")
    PHONE = "phone", _("Phone number")


class BlockEntry(models.Model):
    """A value that marks a lead as fraud: a domain, an address, an IP network or a phone."""

    kind = models.CharField(_("kind"), max_length=20, choices=BlockKind.choices)
    value = models.CharField(_("value"), max_length=254)
    note = models.CharField(_("note"), max_length=200, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["kind", "value"]
        verbose_name = _("blocklist entry")
        constraints = [
            models.UniqueConstraint(fields=["kind", "value"], name="block_entry_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


class PairState(models.TextChoices):
    OPEN = "open", _("Open")
    MERGED = "merged", _("Merged")
    DISMISSED = "dismissed", _("Not the same")


class DuplicatePair(models.Model):
    """Two leads that may be the same person, with the match score and why."""

    lead = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    other = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField(_("match score"))
    reasons = models.JSONField(default=list)
    state = models.CharField(max_length=10, choices=PairState.choices, default=PairState.OPEN)
    found_at = models.DateTimeField()
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("duplicate pair")
        indexes = [models.Index(fields=["state", "-score", "id"], name="dup_pair_state_score")]
        constraints = [
            models.UniqueConstraint(fields=["lead", "other"], name="dup_pair_unique"),
            models.CheckConstraint(condition=~Q(lead=models.F("other")), name="dup_pair_two_leads"),
        ]

    def __str__(self) -> str:
        return f"{self.lead_id} ~ {self.other_id} ({self.score:.2f})"


class Merge(models.Model):
    """One lead folded into another; everything needed to undo it is kept.

    The merged lead's row stays (with `merged_into` set) so its history, submissions and id keep
    working; `survivor_before` holds the survivor's values that the merge overwrote.
    """

    survivor = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    merged = models.ForeignKey(Lead, on_delete=models.CASCADE, related_name="+")
    survivor_before = models.JSONField(default=dict)
    field_choices = models.JSONField(default=dict)
    pair = models.ForeignKey(
        DuplicatePair, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges"
    )
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    merged_at = models.DateTimeField()
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-merged_at", "-id"]
        verbose_name = _("merge")

    def __str__(self) -> str:
        return f"{self.merged_id} → {self.survivor_id}"


class MatchWeights(models.Model):
    """One fit of the name-and-address match model: m and u per field and level, and the share of
    true matches among candidate pairs. The newest fit is the one in force
    (assessment/dedup/matching/model.py)."""

    model = models.JSONField()
    pairs = models.PositiveIntegerField(_("candidate pairs"))
    labelled_matches = models.PositiveIntegerField(_("merges used"), default=0)
    labelled_non_matches = models.PositiveIntegerField(_("dismissals used"), default=0)
    iterations = models.PositiveSmallIntegerField(default=0)
    converged = models.BooleanField(default=False)
    fitted_at = models.DateTimeField()
    fitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-fitted_at", "-id"]
        verbose_name = _("match weights")

    def __str__(self) -> str:
        return f"match weights of {self.fitted_at:%Y-%m-%d %H:%M} ({self.pairs} pairs)"


class EnrichmentProvider(models.Model):
    """A web service that appends data to a lead: called with lead fields, answers JSON.

    `request_fields` maps query parameter → lead field; `response_fields` maps a dotted path in
    the answer → lead field (or `extra.<name>`). The request headers carry the provider's API key,
    so their values are kept encrypted (`headers_encrypted`, a Fernet token of a JSON object, see
    `leadloop.core.secrets`) and only their names are readable (`header_names`).
    """

    name = models.CharField(_("name"), max_length=100, unique=True)
    url = models.URLField(_("URL"), max_length=500)
    method = models.CharField(
        _("method"), max_length=4, choices=[("GET", "GET"), ("POST", "POST")], default="GET"
    )
    header_names = models.JSONField(_("header names"), default=list, blank=True)
    headers_encrypted = models.TextField(blank=True, default="")
    headers_changed_at = models.DateTimeField(_("headers changed"), null=True, blank=True)
    request_fields = models.JSONField(_("request fields"), default=dict)
    response_fields = models.JSONField(_("response fields"), default=dict)
    timeout_seconds = models.FloatField(_("time-out (seconds)"), default=3.0)
    cache_hours = models.PositiveIntegerField(_("cache answers for (hours)"), default=24 * 7)
    only_fill_empty = models.BooleanField(_("only fill empty fields"), default=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("enrichment provider")

    def __str__(self) -> str:
        return self.name


class EnrichmentCacheEntry(models.Model):
    """A provider's answer to one request, reused until it is older than the provider's limit."""

    provider = models.ForeignKey(EnrichmentProvider, on_delete=models.CASCADE, related_name="+")
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=200)
    response = models.JSONField(default=dict)
    fetched_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "request_hash"], name="enrichment_cache_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider_id}:{self.request_hash[:8]}"


class PredictiveModel(models.Model):
    """A trained model that predicts the chance a lead is won, with its evaluation report.

    `blob` is the fitted pipeline as written by joblib; only models trained here are ever loaded.
    """

    trained_at = models.DateTimeField()
    trained_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_active = models.BooleanField(default=False)
    included_fields = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=dict)
    blob = models.BinaryField()
    auc = models.FloatField(null=True, blank=True)
    training_size = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-trained_at", "-id"]
        verbose_name = _("predictive model")
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_model"
            ),
        ]

    def __str__(self) -> str:
        return f"model {self.pk} ({self.trained_at:%Y-%m-%d})"
