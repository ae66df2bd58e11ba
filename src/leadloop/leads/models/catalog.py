"""Where leads come from and what they belong to: organisations, sources, campaigns, costs."""

from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from leadloop.leads.models.choices import ChannelKind, MinimumContact, OnInvalidLead


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
    minimum_contact = models.CharField(
        _("minimum contact"),
        max_length=30,
        choices=MinimumContact.choices,
        default=MinimumContact.EMAIL_PHONE_OR_ADDRESS,
        db_default=MinimumContact.EMAIL_PHONE_OR_ADDRESS,
    )
    on_invalid = models.CharField(
        _("a lead with a bad value"),
        max_length=10,
        choices=OnInvalidLead.choices,
        blank=True,
        default="",
        db_default="",
    )
    # What a purchased source charges for each lead it delivers (analytics counts it as cost
    # per valid lead received); empty for a source that is not paid per lead.
    cost_per_lead = models.DecimalField(
        _("cost per lead"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    cost_currency = models.CharField(_("currency"), max_length=3, default="EUR", db_default="EUR")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("source")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(cost_per_lead__gte=0), name="source_cost_per_lead_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def has_active_key(self) -> bool:
        return bool(self.key_hash) and self.key_revoked_at is None

    @property
    def invalid_lead_policy(self) -> str:
        """`on_invalid`, or the channel's default: reject on web forms, review elsewhere."""
        if self.on_invalid:
            return self.on_invalid
        return OnInvalidLead.REJECT if self.kind == ChannelKind.WEB_FORM else OnInvalidLead.REVIEW

    @property
    def invalid_lead_policy_label(self) -> str:
        return str(OnInvalidLead(self.invalid_lead_policy).label)


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
    """Money spent on a campaign on a day, or over the days from `incurred_on` to `until_on`
    (media, agency, lead purchase); analytics spreads a period's amount evenly over its days."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="costs")
    incurred_on = models.DateField(_("date"))
    until_on = models.DateField(_("until"), null=True, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=14, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    note = models.CharField(_("note"), max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-incurred_on"]
        verbose_name = _("cost")
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="cost_not_negative"),
            models.CheckConstraint(
                condition=models.Q(until_on__isnull=True)
                | models.Q(until_on__gte=models.F("incurred_on")),
                name="cost_period_ends_after_start",
            ),
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
