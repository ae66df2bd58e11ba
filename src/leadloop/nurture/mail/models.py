"""Marketing e-mail (issue 15): templates, the messages sent from them, the tracking hits they
draw, and the suppression list that every send consults."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = [
    "DeliveryReport",
    "MarketingMessage",
    "MarketingTemplate",
    "MessageState",
    "ReportKind",
    "ReportVia",
    "Suppression",
    "SuppressionReason",
    "TrackingEvent",
    "TrackingHit",
    "TrackingKind",
]


class MarketingTemplate(models.Model):
    """A marketing e-mail in one language: a subject and a Markdown body with `{first_name}` and
    the other merge fields of `services.rendering.MERGE_FIELDS`. One row per language; the rows
    of one `name` are the translations of one mail."""

    name = models.CharField(_("name"), max_length=100)
    language = models.CharField(_("language"), max_length=8)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"))
    is_active = models.BooleanField(_("active"), default=True)
    # The survey `{survey_url}` links to: each lead gets its own signed, expiring link to it.
    survey = models.ForeignKey(
        "nurture.Survey",
        verbose_name=_("survey"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["name", "language"]
        constraints = [
            models.UniqueConstraint(fields=["name", "language"], name="marketing_template_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.language})"


class MessageState(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Could not be sent")
    SKIPPED = "skipped", _("Not sent (no consent or suppressed)")


class MarketingMessage(models.Model):
    """One marketing e-mail to one lead, rendered and stored when it is queued and handed to SMTP
    by a task. `key` is a random identifier: the signed tokens in the mail's links carry it, never
    the lead's or the message's id."""

    lead = models.ForeignKey(
        "leads.Lead", db_index=False, on_delete=models.CASCADE, related_name="+"
    )
    template = models.ForeignKey(
        MarketingTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    key = models.CharField(max_length=32, unique=True)
    to = models.CharField(max_length=254)
    domain = models.CharField(max_length=254)
    language = models.CharField(max_length=8)
    subject = models.CharField(max_length=200)
    html = models.TextField()
    text = models.TextField()
    # The real destinations of the mail's tracked links, by index: a click token names an index,
    # and the redirect reads the address from here (never from the request: no open redirect).
    links = models.JSONField(default=list)
    message_id = models.CharField(max_length=200)
    state = models.CharField(
        max_length=10, choices=MessageState.choices, default=MessageState.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()
    changed_at = models.DateTimeField()
    next_attempt_at = models.DateTimeField()
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    first_opened_at = models.DateTimeField(null=True, blank=True)
    first_clicked_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["lead", "-id"], name="marketing_message_lead"),
            models.Index(fields=["state", "next_attempt_at"], name="marketing_message_due"),
            models.Index(fields=["domain", "claimed_at"], name="marketing_message_domain"),
        ]

    def __str__(self) -> str:
        return f"{self.to}: {self.subject}"


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    COMPLAINT = "complaint", _("Spam complaint")
    MANUAL = "manual", _("Added by hand")


class Suppression(models.Model):
    """An address no marketing mail goes to (lower-cased), with why: checked at every send."""

    email = models.CharField(_("e-mail"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=20, choices=SuppressionReason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True, default="")
    message = models.ForeignKey(
        MarketingMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.email} ({self.reason})"


class TrackingKind(models.TextChoices):
    OPEN = "open", _("Opened")
    CLICK = "click", _("Clicked")


class TrackingEvent(models.Model):
    """One hit on a message's open pixel or one of its click links, kept whether or not it
    counted: `counted` marks the message's first human open or click, the one that reached the
    timeline; `verdict` says why another did not (repeat, apple_proxy, scanner, bot)."""

    message = models.ForeignKey(
        MarketingMessage, db_index=False, on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=5, choices=TrackingKind.choices)
    link_index = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")
    counted = models.BooleanField(default=False)
    verdict = models.CharField(max_length=12, blank=True, default="")
    # When the counted hit reached the lead's timeline (`tracking.process_hits`, after the batch).
    logged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["message", "at"], name="tracking_event_message"),
            # The counted hits not yet on the timeline (`tracking.process_hits`).
            models.Index(fields=["counted", "logged_at"], name="tracking_event_unlogged"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.message_id}"


class TrackingHit(models.Model):
    """One request on an open pixel or a click link, as it came and not yet judged: the
    endpoints only append here (one narrow INSERT, no lookup for the pixel), and
    `services.tracking.process_hits` turns each into a TrackingEvent with its verdict and
    deletes it in the same transaction, so every hit is judged exactly once."""

    key = models.CharField(max_length=32)
    kind = models.CharField(max_length=5, choices=TrackingKind.choices)
    link_index = models.PositiveSmallIntegerField(null=True, blank=True)
    at = models.DateTimeField()
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class ReportKind(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    SOFT_BOUNCE = "soft_bounce", _("Soft bounce")
    COMPLAINT = "complaint", _("Spam complaint")
    UNKNOWN = "unknown", _("Not understood")


class ReportVia(models.TextChoices):
    FILE = "file", _("File")
    IMAP = "imap", _("Bounce mailbox (IMAP)")
    SMTP = "smtp", _("SMTP listener")


class DeliveryReport(models.Model):
    """A mail that came back about a marketing mail: a bounce (RFC 3464 delivery-status
    notification) or a spam complaint (RFC 5965 ARF report). Kept raw before it is read, so a
    report the parser does not understand can be read again later."""

    raw = models.BinaryField()
    received_at = models.DateTimeField()
    # How it came: a file (`leadloop mail bounce`), the bounce mailbox over IMAP, or the SMTP
    # listener; `headers` holds the envelope (IMAP uid, MAIL FROM, RCPT TO, peer).
    via = models.CharField(max_length=8, choices=ReportVia.choices, default=ReportVia.FILE)
    headers = models.JSONField(default=dict, blank=True)
    # SHA-256 of the bytes: a mail fetched or delivered twice (a crash before IMAP's \Seen, an
    # MTA's retry after a lost 250) is stored once.
    digest = models.CharField(max_length=64, null=True, blank=True, unique=True)
    kind = models.CharField(max_length=12, choices=ReportKind.choices, blank=True, default="")
    status = models.CharField(max_length=20, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    # The receiving server's own words (Diagnostic-Code), shown to people as text.
    diagnostic = models.CharField(max_length=300, blank=True, default="")
    message = models.ForeignKey(
        MarketingMessage, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    # Why the mail could not be read (too large, the parser failed): kept for a person to look
    # at and read again; the sweep leaves it alone.
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [models.Index(fields=["processed_at", "received_at"], name="delivery_report_due")]

    def __str__(self) -> str:
        return f"{self.kind or 'unread'} {self.email}"

    @property
    def state(self) -> str:
        """read, unreadable (an error to look at) or waiting (stored, not read yet)."""
        if self.error:
            return "unreadable"
        return "read" if self.processed_at is not None else "waiting"
