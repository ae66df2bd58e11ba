"""Users, teams, roles, partner organisations and API keys."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from leadloop.accounts.lead_fields import FieldView, default_visible_fields, field_view


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MARKETING = "marketing", _("Marketing")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    # Telemarketing: works the call lists they are a member of, and sees only those lists' leads.
    AGENT = "agent", _("Telemarketing agent")
    PARTNER = "partner", _("Partner user")
    # A lead buyer's user: sees the leads sold to its buyer, its returns and its money, in the
    # buyer portal only (`distribution.selling`); no lead page of the company.
    BUYER = "buyer", _("Lead buyer")


class PartnerOrganization(models.Model):
    """A channel partner: an outside company that receives leads and works them in Leadloop."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    # Keys from `lead_fields.LEAD_FIELDS`: what of its leads the organisation's users see.
    visible_fields = models.JSONField(
        _("fields its users see"), default=default_visible_fields, blank=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner organisation")

    def __str__(self) -> str:
        return self.name

    @property
    def field_view(self) -> FieldView:
        """The lead fields this organisation's users are shown."""
        return field_view(self.visible_fields)


class Team(models.Model):
    """A sales team: reps who share a pool of leads, led by a sales manager."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    manager = models.ForeignKey(
        "accounts.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="managed_teams",
        verbose_name=_("manager"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")

    def __str__(self) -> str:
        return self.name


class User(AbstractUser):
    """A person who logs in: staff of the company (by role) or a user of a partner organisation."""

    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.SALES_REP)
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="members",
        verbose_name=_("team"),
    )
    partner = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        verbose_name=_("partner organisation"),
    )
    language = models.CharField(_("language"), max_length=8, blank=True, default="")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Amsterdam")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(role="partner") | models.Q(partner__isnull=False),
                name="partner_user_has_partner",
            ),
        ]

    @property
    def display_name(self) -> str:
        return self.get_full_name() or self.username


class ApiKey(models.Model):
    """A secret that lets a script act as a user through the API. Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100, default="default")
    prefix = models.CharField(max_length=12, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"


class DeploymentDefaults(models.Model):
    """The deployment's defaults, set by an admin: the language and time zone of new users and
    of users without their own, the country phone numbers and postal codes are read for when a
    lead does not say, and the currency of money without one. One row (pk 1); until an admin
    saves it the values come from the environment (`LEADLOOP_LANGUAGE`, `LEADLOOP_COUNTRY`, …).
    """

    language = models.CharField(_("language"), max_length=8)
    country = models.CharField(_("country"), max_length=2)
    currency = models.CharField(_("currency"), max_length=3)
    time_zone = models.CharField(_("time zone"), max_length=64)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("deployment defaults")
        constraints = [
            models.CheckConstraint(condition=models.Q(pk=1), name="deployment_defaults_one_row"),
        ]

    def __str__(self) -> str:
        return f"{self.language} {self.country} {self.currency} {self.time_zone}"


class AuditAction(models.TextChoices):
    LEAD_VIEWED = "lead_viewed", _("Lead viewed")
    LEAD_EXPORTED = "lead_exported", _("Leads exported")
    LEAD_CHANGED = "lead_changed", _("Lead changed")
    LEAD_MERGED = "lead_merged", _("Leads merged")
    LEAD_ERASED = "lead_erased", _("Lead erased")
    ORIGINAL_VIEWED = "original_viewed", _("Original viewed")
    ORIGINAL_DOWNLOADED = "original_downloaded", _("Original downloaded")
    PRIVACY_EXPORT = "privacy_export", _("Personal data exported")
    SETTING_CHANGED = "setting_changed", _("Setting changed")
    RULE_CHANGED = "rule_changed", _("Rule changed")
    SOURCE_CHANGED = "source_changed", _("Source changed")
    FORM_CHANGED = "form_changed", _("Form changed")
    USER_CREATED = "user_created", _("User created")
    USER_CHANGED = "user_changed", _("User changed")
    API_KEY_CREATED = "api_key_created", _("API key created")
    API_KEY_REVOKED = "api_key_revoked", _("API key revoked")
    LOGIN = "login", _("Logged in")
    LOGIN_FAILED = "login_failed", _("Login failed")
    AUDIT_PRUNED = "audit_pruned", _("Audit log pruned")


class AuditTarget(models.TextChoices):
    """The kinds of thing an audit event is about (the column takes others, for later features)."""

    LEAD = "lead", _("Lead")
    SUBMISSION = "submission", _("Submission")
    SOURCE = "source", _("Source")
    FORM = "form", _("Web form")
    RULE = "rule", _("Rule")
    BLOCK_ENTRY = "block_entry", _("Blocklist entry")
    SETTINGS = "settings", _("Settings")
    DEFAULTS = "defaults", _("Deployment defaults")
    PROVIDER = "provider", _("Enrichment provider")
    USER = "user", _("User")
    TEAM = "team", _("Team")
    PARTNER = "partner", _("Partner organisation")
    API_KEY = "api_key", _("API key")
    AUDIT = "audit", _("Audit log")


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    """The audit log only grows: bulk updates and deletes through the ORM are refused too."""

    def update(self, **kwargs: Any) -> int:
        raise AppendOnly("The audit log cannot be changed.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnly("The audit log cannot be deleted from.")


class AppendOnly(Exception):
    """Raised when code tries to change or remove an audit event."""


class AuditEvent(models.Model):
    """One entry of the audit trail: who did what to which lead, setting, source or user, when.

    Append-only: the database refuses UPDATE and DELETE on the table (triggers created in
    migration 0002), and so does the ORM. `actor_label` keeps the actor's name as text, so an
    entry still says who it was after the user is gone; `actor` has no database constraint for
    the same reason. Entries about a lead name it by id only, never by a person's details.
    """

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=150)
    action = models.CharField(_("action"), max_length=40, choices=AuditAction.choices)
    target_type = models.CharField(_("target type"), max_length=40)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, default="")
    target_label = models.CharField(_("target"), max_length=200, blank=True, default="")
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.CharField(_("IP address"), max_length=45, blank=True, default="")
    request_id = models.CharField(max_length=64, blank=True, default="")
    method = models.CharField(max_length=8, blank=True, default="")
    path = models.CharField(max_length=300, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit event")
        indexes = [
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.target_type}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("The audit log cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnly("The audit log cannot be deleted from.")

    @property
    def target_type_label(self) -> str:
        """The target type in the reader's language (a type added later shows as stored)."""
        try:
            return str(AuditTarget(self.target_type).label)
        except ValueError:
            return self.target_type

    @property
    def details_text(self) -> str:
        """The details as one short line: `key=value; …`."""
        return "; ".join(f"{key}={value}" for key, value in sorted(self.data.items()))
