"""Retention rules: how long personal data of finished business is kept before it is erased."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RetentionTarget(models.TextChoices):
    SUBMISSION = "submission", _("Submissions")
    LEAD = "lead", _("Leads")


class RetentionRule(models.Model):
    """A Retention rule says: the personal data of submissions in this state (counted from when
    they arrived), or of leads in this status (counted from their last change or timeline
    entry), is erased after `keep_days`. The daily job applies every active rule."""

    target = models.CharField(_("applies to"), max_length=12, choices=RetentionTarget.choices)
    state = models.CharField(_("state or status"), max_length=20)
    keep_days = models.PositiveIntegerField(_("keep for (days)"))
    is_active = models.BooleanField(_("active"), default=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["target", "state"]
        verbose_name = _("retention rule")
        constraints = [
            models.UniqueConstraint(fields=["target", "state"], name="retention_rule_unique"),
            models.CheckConstraint(
                condition=models.Q(keep_days__gte=1), name="retention_min_1_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.state}: {self.keep_days} days"
