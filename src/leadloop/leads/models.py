"""Lead, Organization, Source, Campaign and the append-only Activity timeline."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LeadStatus(models.TextChoices):
    NEW = "new", pgettext_lazy("lead status", "New")
    NURTURING = "nurturing", pgettext_lazy("lead status", "Nurturing")
    SALES_READY = "sales_ready", pgettext_lazy("lead status", "Sales ready")
    ASSIGNED = "assigned", pgettext_lazy("lead status", "Assigned")
    CONTACTED = "contacted", pgettext_lazy("lead status", "Contacted")
    QUOTED = "quoted", pgettext_lazy("lead status", "Quoted")
    WON = "won", pgettext_lazy("lead status", "Won")
    LOST = "lost", pgettext_lazy("lead status", "Lost")
    DISQUALIFIED = "disqualified", pgettext_lazy("lead status", "Disqualified")


class ChannelKind(models.TextChoices):
    WEB_FORM = "web_form", _("Web form")
    HTTP_POST = "http_post", _("HTTP POST")
    EMAIL = "email", _("E-mail")
    RSS = "rss", _("RSS feed")
    FTP = "ftp", _("FTP drop folder")
    IMPORT = "import", _("Batch import")
    API = "api", _("API")
    MANUAL = "manual", _("Manual entry")


class FitGrade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class BantAnswer(models.TextChoices):
    UNKNOWN = "", _("Unknown")
    MET = "met", _("Met")
    NOT_MET = "not_met", _("Not met")


class ActorKind(models.TextChoices):
    USER = "user", _("User")
    PARTNER = "partner", _("Partner")
    SYSTEM = "system", _("System")
    LEAD = "lead", _("Lead")
    SOURCE = "source", _("Source")


class ActivityKind(models.TextChoices):
    CREATED = "created", _("Created")
    FIELD_CHANGED = "field_changed", _("Fields changed")
    STATUS_CHANGED = "status_changed", _("Status changed")
    ASSIGNED = "assigned", _("Assigned")
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    EMAIL = "email", _("E-mail")
    MEETING = "meeting", _("Meeting")
    QUOTE = "quote", _("Quote")
    FORM_SUBMITTED = "form_submitted", _("Form submitted")
    MERGED = "merged", _("Merged")
    UNMERGED = "unmerged", _("Merge undone")
    ASSESSED = "assessed", _("Assessed")
    REVIEWED = "reviewed", _("Reviewed")
    EMAIL_OPENED = "email_opened", _("E-mail opened")
    EMAIL_CLICKED = "email_clicked", _("E-mail link clicked")
    PAGE_VISIT = "page_visit", _("Page visited")
    SURVEY_ANSWERED = "survey_answered", _("Survey answered")
    OBJECTION = "objection", _("Objection recorded")
    ERASED = "erased", _("Personal data erased")


class LeadHold(models.TextChoices):
    """Why assessment holds a lead back from distribution until a person looks at it."""

    FRAUD_REVIEW = "fraud_review", _("Fraud review")
    DUPLICATE_REVIEW = "duplicate_review", _("Duplicate review")


class Organization(models.Model):
    """A company a lead works for. A holding and its branches form a tree (parent/child).

    `path` is the materialised path of ids ("/1/7/12/") so a whole subtree is one indexed
    prefix query, whatever its depth.
    """

    name = models.CharField(_("name"), max_length=255)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent organisation"),
    )
    path = models.CharField(max_length=255, db_index=True, editable=False, default="")
    website = models.CharField(_("website"), max_length=255, blank=True, default="")
    domain = models.CharField(
        _("e-mail domain"), max_length=255, blank=True, default="", db_index=True
    )
    industry = models.CharField(_("industry"), max_length=120, blank=True, default="")
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    registration_number = models.CharField(
        _("registration number"), max_length=40, blank=True, default=""
    )
    vat_number = models.CharField(_("VAT number"), max_length=40, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        indexes = [models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)


class Source(models.Model):
    """A channel a lead arrives through (a web form, a provider's HTTP POST, a mailbox, a drop).

    Its key lets a sender submit leads to this source only; only the key's hash is stored.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("channel"), max_length=20, choices=ChannelKind.choices)
    key_prefix = models.CharField(max_length=12, blank=True, default="", db_index=True)
    key_hash = models.CharField(max_length=64, blank=True, default="", db_index=True)
    key_revoked_at = models.DateTimeField(null=True, blank=True)
    field_mapping = models.JSONField(_("field mapping"), default=dict, blank=True)
    default_country = models.CharField(_("default country"), max_length=2, blank=True, default="")
    default_language = models.CharField(_("default language"), max_length=8, blank=True, default="")
    is_active = models.BooleanField(_("active"), default=True)
    # Posts allowed per intake window (LEADLOOP_INTAKE_LIMIT_WINDOW_SECONDS), for the whole source
    # and from one address; empty takes the deployment default, 0 means no limit.
    intake_limit = models.PositiveIntegerField(_("post limit"), null=True, blank=True)
    intake_limit_per_address = models.PositiveIntegerField(
        _("post limit per address"), null=True, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("source")

    def __str__(self) -> str:
        return self.name

    @property
    def has_active_key(self) -> bool:
        return bool(self.key_hash) and self.key_revoked_at is None


class Campaign(models.Model):
    """A marketing effort with a budget and dates, bringing leads through one source."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="campaigns")
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("starts on"), null=True, blank=True)
    ends_on = models.DateField(_("ends on"), null=True, blank=True)
    budget_amount = models.DecimalField(
        _("budget"), max_digits=14, decimal_places=2, default=Decimal("0")
    )
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "name"]
        verbose_name = _("campaign")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "name"], name="campaign_name_unique_per_source"
            ),
            models.CheckConstraint(
                condition=models.Q(ends_on__isnull=True)
                | models.Q(starts_on__isnull=True)
                | models.Q(ends_on__gte=models.F("starts_on")),
                name="campaign_ends_after_start",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CostEntry(models.Model):
    """Money spent on a campaign on a day (media, agency, lead purchase)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="costs")
    incurred_on = models.DateField(_("date"))
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    note = models.CharField(_("note"), max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-incurred_on"]
        verbose_name = _("cost")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="cost_not_negative")
        ]

    def __str__(self) -> str:
        return f"{self.incurred_on} {self.amount} {self.currency}"


class LostReason(models.Model):
    """Why a lead was lost; data, so sales managers can add their own."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Lead(models.Model):
    """A person who showed interest, from the moment they arrive until they are won or lost."""

    # Person
    first_name = models.CharField(_("first name"), max_length=150, blank=True, default="")
    last_name = models.CharField(_("last name"), max_length=150, blank=True, default="")
    email = models.CharField(_("e-mail"), max_length=254, blank=True, default="")
    phone_raw = models.CharField(_("phone"), max_length=64, blank=True, default="")
    phone_e164 = models.CharField(_("phone (E.164)"), max_length=20, blank=True, default="")
    street = models.CharField(_("street"), max_length=200, blank=True, default="")
    house_number = models.CharField(_("house number"), max_length=20, blank=True, default="")
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True, default="")
    city = models.CharField(_("city"), max_length=120, blank=True, default="")
    region = models.CharField(_("region"), max_length=120, blank=True, default="")
    country = models.CharField(_("country"), max_length=2, blank=True, default="")
    job_title = models.CharField(_("job title"), max_length=200, blank=True, default="")
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    company_name = models.CharField(_("company"), max_length=255, blank=True, default="")
    organization = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("organisation"),
    )
    # Consent: what the person agreed to, when, and which version of the text they saw.
    consent_purpose = models.CharField(
        _("consent given for"), max_length=200, blank=True, default=""
    )
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    consent_text_version = models.CharField(
        _("consent text version"), max_length=40, blank=True, default=""
    )
    # Origin
    source = models.ForeignKey(
        Source, db_index=False, on_delete=models.PROTECT, related_name="leads"
    )
    campaign = models.ForeignKey(
        Campaign,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="leads",
    )
    external_ref = models.CharField(_("external reference"), max_length=120, blank=True, default="")
    utm_source = models.CharField(max_length=200, blank=True, default="")
    utm_medium = models.CharField(max_length=200, blank=True, default="")
    utm_campaign = models.CharField(max_length=200, blank=True, default="")
    utm_term = models.CharField(max_length=200, blank=True, default="")
    utm_content = models.CharField(max_length=200, blank=True, default="")
    referrer = models.TextField(_("referrer"), blank=True, default="")
    landing_page = models.TextField(_("landing page"), blank=True, default="")
    # Lifecycle and ownership
    status = models.CharField(
        _("status"), max_length=20, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="assigned_leads",
        verbose_name=_("assigned to"),
    )
    team = models.ForeignKey(
        "accounts.Team",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("team"),
    )
    owner_partner = models.ForeignKey(
        "accounts.PartnerOrganization",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="leads",
        verbose_name=_("partner"),
    )
    # Assessment
    fit_grade = models.CharField(
        _("fit grade"), max_length=1, choices=FitGrade.choices, blank=True, default=""
    )
    engagement_score = models.IntegerField(_("engagement score"), default=0)
    predictive_score = models.FloatField(_("predictive score"), null=True, blank=True)
    priority = models.IntegerField(_("priority"), default=0)
    bant_budget = models.CharField(
        _("budget"), max_length=8, choices=BantAnswer.choices, blank=True, default=""
    )
    bant_authority = models.CharField(
        _("authority"), max_length=8, choices=BantAnswer.choices, blank=True, default=""
    )
    bant_need = models.CharField(
        _("need"), max_length=8, choices=BantAnswer.choices, blank=True, default=""
    )
    bant_timeframe = models.CharField(
        _("timeframe"), max_length=8, choices=BantAnswer.choices, blank=True, default=""
    )
    # Assessment results. Nullable without defaults: SQLite adds such columns in place, where a
    # NOT NULL column would rebuild the table (and drop the search triggers).
    fraud_score = models.PositiveSmallIntegerField(_("fraud score"), null=True, blank=True)
    hold = models.CharField(
        _("held for"), max_length=20, choices=LeadHold.choices, null=True, blank=True
    )
    client_ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    device_fingerprint = models.CharField(
        _("device fingerprint"), max_length=128, null=True, blank=True
    )
    # Folded last name, the de-duplication block for fuzzy name matches.
    name_key = models.CharField(max_length=150, null=True, blank=True, editable=False)
    # Findings, normalised values, device and appended data: what `assessment.assess()` said.
    assessment = models.JSONField(null=True, blank=True, editable=False)
    assessed_at = models.DateTimeField(_("assessed"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("merged into"),
    )
    # Money and follow-up
    potential_revenue = models.DecimalField(
        _("potential revenue"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    probability = models.PositiveSmallIntegerField(_("probability (%)"), null=True, blank=True)
    order_value = models.DecimalField(
        _("order value"), max_digits=14, decimal_places=2, null=True, blank=True
    )
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    lost_reason = models.ForeignKey(
        LostReason,
        null=True,
        blank=True,
        db_index=False,  # a partial index below: most leads have none
        on_delete=models.PROTECT,
        verbose_name=_("lost reason"),
    )
    first_contact_due_at = models.DateTimeField(_("first contact due"), null=True, blank=True)
    next_follow_up_at = models.DateTimeField(_("next follow-up"), null=True, blank=True)
    last_contacted_at = models.DateTimeField(_("last contacted"), null=True, blank=True)
    extra = models.JSONField(_("extra fields"), default=dict, blank=True)
    # Bookkeeping. `search_text` is the normalised token string the search index reads.
    search_text = models.TextField(blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), db_index=True)
    updated_at = models.DateTimeField(_("updated"))
    status_changed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Privacy (GDPR). Nullable without defaults, like the assessment columns above. An objection
    # is kept even after the lead is closed: future mail checks `can_receive_marketing`.
    marketing_opt_out_at = models.DateTimeField(_("no marketing since"), null=True, blank=True)
    processing_objected_at = models.DateTimeField(
        _("objected to processing at"), null=True, blank=True
    )
    objection_source = models.CharField(
        _("objection received through"), max_length=200, null=True, blank=True
    )
    # Set once, when the person's data was erased; the row stays as a tombstone for analytics.
    erased_at = models.DateTimeField(_("personal data erased"), null=True, blank=True)

    class Meta:
        verbose_name = _("lead")
        indexes = [
            # Every list sorts by a column and then id (keyset pagination); the common filters
            # lead each composite index so a filtered, sorted page is one index range scan.
            models.Index(fields=["status", "created_at", "id"], name="lead_status_created"),
            models.Index(fields=["status", "last_name", "id"], name="lead_status_last_name"),
            models.Index(fields=["assigned_to", "created_at", "id"], name="lead_owner_created"),
            models.Index(fields=["team", "created_at", "id"], name="lead_team_created"),
            # Columns that are empty for most leads get partial indexes: an index entry costs a
            # page write on every insert (measured on the HTTP intake), and `= x` filters still
            # use them on both databases.
            models.Index(
                fields=["owner_partner", "created_at", "id"],
                name="lead_partner_created",
                condition=Q(owner_partner__isnull=False),
            ),
            models.Index(fields=["source", "created_at", "id"], name="lead_source_created"),
            models.Index(
                fields=["campaign", "created_at", "id"],
                name="lead_campaign_created",
                condition=Q(campaign__isnull=False),
            ),
            models.Index(fields=["fit_grade", "created_at", "id"], name="lead_grade_created"),
            models.Index(
                fields=["organization", "created_at"],
                name="lead_org_created",
                condition=Q(organization__isnull=False),
            ),
            models.Index(
                fields=["lost_reason"],
                name="lead_lost_reason",
                condition=Q(lost_reason__isnull=False),
            ),
            models.Index(fields=["updated_at", "id"], name="lead_updated"),
            models.Index(fields=["priority", "id"], name="lead_priority"),
            models.Index(fields=["engagement_score", "id"], name="lead_engagement"),
            models.Index(fields=["last_name", "id"], name="lead_last_name"),
            models.Index(fields=["email"], name="lead_email"),
            models.Index(fields=["phone_e164"], name="lead_phone"),
            models.Index(
                fields=["postal_code"], name="lead_postal_code", condition=~Q(postal_code="")
            ),
            models.Index(
                fields=["name_key"], name="lead_name_key", condition=Q(name_key__isnull=False)
            ),
            models.Index(
                fields=["client_ip", "created_at"],
                name="lead_client_ip",
                condition=Q(client_ip__isnull=False),
            ),
            models.Index(
                fields=["device_fingerprint", "created_at"],
                name="lead_fingerprint",
                condition=Q(device_fingerprint__isnull=False),
            ),
            models.Index(
                fields=["hold", "created_at", "id"],
                name="lead_hold",
                condition=Q(hold__isnull=False),
            ),
            models.Index(
                fields=["merged_into"],
                name="lead_merged_into",
                condition=Q(merged_into__isnull=False),
            ),
            # Leads written in bulk (imports) wait here for the background assessment; leads
            # from the intake are assessed before they are written and never enter it.
            models.Index(
                fields=["id"], name="lead_unassessed", condition=Q(assessed_at__isnull=True)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(probability__isnull=True) | models.Q(probability__lte=100),
                name="lead_probability_percent",
            ),
            models.UniqueConstraint(
                fields=["source", "external_ref"],
                condition=~models.Q(external_ref=""),
                name="lead_external_ref_unique_per_source",
            ),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email or f"#{self.pk}"

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def weighted_revenue(self) -> Decimal | None:
        if self.potential_revenue is None or self.probability is None:
            return None
        return (self.potential_revenue * self.probability / 100).quantize(Decimal("0.01"))

    @property
    def bant_met_count(self) -> int:
        answers = (self.bant_budget, self.bant_authority, self.bant_need, self.bant_timeframe)
        return sum(1 for a in answers if a == BantAnswer.MET)


class Activity(models.Model):
    """One entry on a lead's timeline. Append-only: never updated, never deleted."""

    # Indexed by activity_timeline, which starts with the lead.
    lead = models.ForeignKey(
        Lead, db_index=False, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        db_index=False,  # partial index below: sources and the system write most entries
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lead", "-created_at", "-id"], name="activity_timeline"),
            models.Index(
                fields=["actor_user"], name="activity_actor", condition=Q(actor_user__isnull=False)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class SavedView(models.Model):
    """A named set of lead-list filters a user keeps for one click."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(max_length=2000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "name"], name="saved_view_name_unique")
        ]

    def __str__(self) -> str:
        return self.name
