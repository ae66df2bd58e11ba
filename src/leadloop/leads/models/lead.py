"""The Lead: one person or company interested in buying, from first contact to won or lost."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.lead_fields import ALL_FIELDS, FieldView
from leadloop.leads.models.catalog import Campaign, LostReason, Organization, Source
from leadloop.leads.models.choices import (
    OPEN_STATUSES,
    OWNED_STATUSES,
    BantAnswer,
    FitGrade,
    LeadHold,
    LeadStatus,
)


def being_worked(**more: Any) -> Q:
    """The leads being worked (the board's, and the lists of a team's work), narrowed by
    `more`: the condition of several partial indexes below."""
    return Q(**more, merged_into__isnull=True, status__in=[str(s) for s in OWNED_STATUSES])


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
    # When the lead was sold to a buyer (distribution.selling); cleared when every sale of it
    # was returned, so routing may place it again.
    sold_at = models.DateTimeField(_("sold"), null=True, blank=True)
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
    address_key = models.CharField(max_length=20, null=True, blank=True, editable=False)
    # Start of the street and the surname's initial: the block for a lead known by name and
    # address alone whose house number and postal code were mistyped too.
    street_name_key = models.CharField(max_length=10, null=True, blank=True, editable=False)
    # House number and the start of the first name: the block for such a lead whose surname,
    # street and postal code all changed or went missing.
    house_name_key = models.CharField(max_length=15, null=True, blank=True, editable=False)
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
    # Who won the deal instead, when the lead was lost to a competitor.
    competitor = models.CharField(_("lost to"), max_length=200, null=True, blank=True)
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
        # A query reaches a partial index on SQLite only through `core.expressions.indexed`
        # (the condition with its values written in, not bound); see the board's indexes.
        indexes = [
            # Every list sorts by a column and then id (keyset pagination); the common filters
            # lead each composite index so a filtered, sorted page is one index range scan.
            models.Index(fields=["status", "created_at", "id"], name="lead_status_created"),
            models.Index(fields=["status", "last_name", "id"], name="lead_status_last_name"),
            models.Index(fields=["assigned_to", "created_at", "id"], name="lead_owner_created"),
            models.Index(fields=["team", "created_at", "id"], name="lead_team_created"),
            # A rep's open leads, counted for every pushed lead (capacity, load balancing): an
            # index-only count of that rep's entries; unowned new leads are not in it at all.
            models.Index(
                fields=["assigned_to"],
                name="lead_open_owner",
                condition=Q(
                    assigned_to__isnull=False,
                    merged_into__isnull=True,
                    status__in=[str(s) for s in OPEN_STATUSES],
                ),
            ),
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
                fields=["address_key"],
                name="lead_address_key",
                condition=Q(address_key__isnull=False),
            ),
            models.Index(
                fields=["street_name_key"],
                name="lead_street_name_key",
                condition=Q(street_name_key__isnull=False),
            ),
            models.Index(
                fields=["house_name_key"],
                name="lead_house_name_key",
                condition=Q(house_name_key__isnull=False),
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
            # The review badge and queue of a rep or a manager: held leads by owner and by team.
            # Without them the visibility filter walks every lead of the team (issue 11, item 9).
            models.Index(
                fields=["assigned_to", "team"],
                name="lead_held_owner",
                condition=Q(hold__isnull=False),
            ),
            models.Index(fields=["team"], name="lead_held_team", condition=Q(hold__isnull=False)),
            # A team's pool by priority: "take the next lead" reads its first row. Only leads
            # waiting in a pool are in it, so the intake (no team yet) never writes to it.
            models.Index(
                fields=["team", "-priority", "created_at", "id"],
                name="lead_pool",
                condition=Q(team__isnull=False, assigned_to__isnull=True),
            ),
            # The start page: a rep's follow-ups due today, a manager's overdue count per team.
            models.Index(
                fields=["assigned_to", "next_follow_up_at"],
                name="lead_follow_up_owner",
                condition=Q(next_follow_up_at__isnull=False),
            ),
            models.Index(
                fields=["team", "next_follow_up_at"],
                name="lead_follow_up_team",
                condition=Q(next_follow_up_at__isnull=False),
            ),
            # "No next step": a lead being worked with no open task (sales keeps
            # `next_follow_up_at` at its earliest open task), per team and owner.
            models.Index(
                fields=["team", "assigned_to"],
                name="lead_no_next_step",
                condition=being_worked(next_follow_up_at__isnull=True),
            ),
            # The manager's lists of a team's leads without a next step and of its overdue
            # leads, in the order shown (highest priority first): the first 50 are the first 50
            # entries. Sorting the team's 6,000 overdue leads instead read them all from the
            # table (80 ms on PostgreSQL at a million leads), and PostgreSQL walked
            # `lead_priority` through 34,000 leads to find 53 without a next step.
            models.Index(
                fields=["team", "-priority", "status_changed_at", "id"],
                name="lead_no_next_step_list",
                condition=being_worked(next_follow_up_at__isnull=True),
            ),
            models.Index(
                fields=["team", "-priority", "next_follow_up_at", "id"],
                name="lead_overdue_list",
                condition=being_worked(next_follow_up_at__isnull=False),
            ),
            # The sales pipeline board: the leads being worked with their deal values, by
            # stage and priority (the whole floor's columns and sums), by team (a manager's
            # board) and by owner (a rep's). Covering, so the board never reads the table for
            # them; only the board's leads are in them. SQLite uses a partial index only when
            # the query repeats its condition with the values written in (it does not match
            # bound parameters against it): callers filter on `core.expressions.indexed(Lead,
            # name)`, and tests/core/test_partial_indexes.py proves each can use its index.
            models.Index(
                fields=[
                    "status",
                    "priority",
                    "currency",
                    "potential_revenue",
                    "probability",
                    "team",
                    "assigned_to",
                    "source",
                    "merged_into",
                    # PostgreSQL's indexes do not carry the row's id as SQLite's do: the
                    # forecast joins the board's leads to their quotes by it.
                    "id",
                ],
                name="lead_board",
                condition=being_worked(),
            ),
            models.Index(
                fields=[
                    "team",
                    "status",
                    "priority",
                    "currency",
                    "potential_revenue",
                    "probability",
                    "assigned_to",
                    "source",
                    "merged_into",
                ],
                name="lead_board_team",
                condition=being_worked(),
            ),
            models.Index(
                fields=[
                    "assigned_to",
                    "status",
                    "priority",
                    "currency",
                    "potential_revenue",
                    "probability",
                    "team",
                    "source",
                    "merged_into",
                ],
                name="lead_board_owner",
                condition=being_worked(),
            ),
            # A team's open leads by status and owner, read as one covering range: the
            # manager's view counts each rep's workload and the pool from it.
            models.Index(
                fields=["team", "status", "assigned_to"],
                name="lead_team_open",
                condition=Q(
                    team__isnull=False,
                    merged_into__isnull=True,
                    status__in=[str(s) for s in OPEN_STATUSES],
                ),
            ),
            # Leads that reached sales and have no first-contact clock yet: the sweep's safety
            # net for a clock whose task was lost. A lead leaves it when its deadline is set.
            models.Index(
                fields=["status_changed_at"],
                name="lead_clock_missing",
                condition=Q(
                    first_contact_due_at__isnull=True,
                    last_contacted_at__isnull=True,
                    merged_into__isnull=True,
                    owner_partner__isnull=True,
                    status__in=[str(LeadStatus.SALES_READY), str(LeadStatus.ASSIGNED)],
                ),
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

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A row read for a partner user has its hidden fields blanked in memory
        # (`selectors.hide_fields`); writing it back would erase them. Services reload the row.
        if not self.shown.everything:
            raise ValueError("A lead read with hidden fields cannot be saved; reload it.")
        super().save(*args, **kwargs)

    @property
    def shown(self) -> FieldView:
        """Which fields the reader this row was read for may see: all of them, unless a
        selector read it for a partner user (`leads.selectors.hide_fields`)."""
        view: FieldView = getattr(self, "_shown", ALL_FIELDS)
        return view

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
