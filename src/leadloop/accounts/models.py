"""Users, teams, roles, partner organisations and API keys."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MARKETING = "marketing", _("Marketing")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    PARTNER = "partner", _("Partner user")


class PartnerOrganization(models.Model):
    """A channel partner: an outside company that receives leads and works them in Leadloop."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("partner organisation")

    def __str__(self) -> str:
        return self.name


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
