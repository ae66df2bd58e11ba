"""What arrives, kept as it arrived: every inbound payload is stored raw before anything else."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class SubmissionState(models.TextChoices):
    RECEIVED = "received", _("Received")
    PROCESSED = "processed", _("Processed")
    REJECTED = "rejected", _("Rejected")
    QUARANTINED = "quarantined", _("Quarantined")
    # Over a source's or an address's post limit: stored as it came but not processed; the
    # sender was answered 429, and a person can reprocess it from the review queue.
    THROTTLED = "throttled", _("Throttled")


class Disposition(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted")
    DUPLICATE = "duplicate", _("Duplicate")
    REJECTED = "rejected", _("Rejected")
    # Quarantined because the source keeps refused leads for a person (`Source.on_invalid`);
    # the sender was answered 202.
    REVIEW = "review", _("Held for review")


class RawSubmission(models.Model):
    """One inbound payload (a POST, a form, a mail, a feed entry, a file), stored raw first.

    It ends `processed` (with its lead), `rejected` (the sender was told why) or `quarantined`
    (a person fixes the data or the mapping and reprocesses); one posted over a rate limit is
    kept `throttled` for a person to reprocess. A crash leaves it `received`, and
    the scheduler's sweep processes it later, exactly once.
    """

    source = models.ForeignKey(
        "leads.Source", on_delete=models.PROTECT, related_name="submissions", db_index=False
    )
    channel = models.CharField(_("channel"), max_length=20)
    content_type = models.CharField(max_length=200, blank=True, default="")
    body = models.BinaryField()
    body_sha256 = models.CharField(max_length=64)
    headers = models.JSONField(default=dict, blank=True)
    meta = models.JSONField(default=dict, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True, default="")
    received_at = models.DateTimeField(_("received"))
    state = models.CharField(
        _("state"), max_length=12, choices=SubmissionState.choices, default=SubmissionState.RECEIVED
    )
    disposition = models.CharField(
        _("disposition"), max_length=10, choices=Disposition.choices, blank=True, default=""
    )
    reasons = models.JSONField(_("reasons"), default=list, blank=True)
    # A person's correction of the parsed fields; processing uses it instead of the body.
    corrected_fields = models.JSONField(null=True, blank=True)
    fields = models.JSONField(_("parsed fields"), default=dict, blank=True)
    lead = models.ForeignKey(
        "leads.Lead",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="submissions",
    )
    # A payload with several records (a mail with a CSV attachment, a file) becomes one child
    # submission per record, each with its own lead; the parent keeps the original bytes.
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        db_index=False,  # partial index below: only records split from a bigger payload have one
        on_delete=models.CASCADE,
        related_name="children",
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    processed_at = models.DateTimeField(null=True, blank=True)
    # Set when the body, headers, fields and client details were blanked (erasure, retention);
    # the row keeps its source, state and times so the intake's counts stay right.
    erased_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("submission")
        indexes = [
            models.Index(fields=["source", "-received_at"], name="submission_source_recent"),
            models.Index(fields=["state", "received_at"], name="submission_state"),
            models.Index(fields=["source", "body_sha256", "received_at"], name="submission_body"),
            models.Index(
                fields=["parent"], name="submission_parent", condition=Q(parent__isnull=False)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="submission_idempotency_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} ({self.state})"

    @property
    def is_reviewable(self) -> bool:
        return self.erased_at is None and self.state in (
            SubmissionState.QUARANTINED,
            SubmissionState.REJECTED,
            SubmissionState.THROTTLED,
        )


class ImportState(models.TextChoices):
    PENDING = "pending", _("Waiting for confirmation")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class ImportBatch(models.Model):
    """One file imported into a source (CSV, XLSX, XLS, ODS), kept as it arrived on disk.

    The same file (by SHA-256) is imported into a source once: a second import finds this batch.
    The counters move while it runs, so a progress bar can read them; rejected rows are listed
    in a CSV report beside the original file.
    """

    source = models.ForeignKey(
        "leads.Source", on_delete=models.PROTECT, related_name="import_batches", db_index=False
    )
    campaign = models.ForeignKey(
        "leads.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    filename = models.CharField(_("file name"), max_length=255)
    file_sha256 = models.CharField(max_length=64)
    size_bytes = models.BigIntegerField(default=0)
    stored_path = models.CharField(max_length=500, blank=True, default="")
    mapping = models.JSONField(_("mapping"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=ImportState.choices, default=ImportState.RUNNING
    )
    rows_read = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_duplicate = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_set_aside = models.PositiveIntegerField(default=0)
    # Percent of the file read, written as chunks finish so a page in another process can poll it.
    progress = models.PositiveSmallIntegerField(_("progress"), default=0)
    message = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(_("started"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "file_sha256"], name="import_batch_file_unique_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.state})"

    @property
    def is_in_progress(self) -> bool:
        return self.state in (ImportState.QUEUED, ImportState.RUNNING)

    @property
    def is_done(self) -> bool:
        return self.state == ImportState.DONE

    @property
    def can_start(self) -> bool:
        return self.state in (ImportState.PENDING, ImportState.FAILED)


class ChannelSecret(models.Model):
    """A password a source's channel logs in with (FTP, SFTP, IMAP), encrypted at rest.

    It lives here, not in `Source.field_mapping`, so that no serializer that prints a source's
    settings can print it. `value_encrypted` is a Fernet token (`leadloop.core.secrets`); only
    `intake.channels.secrets` opens it, at the moment a channel logs in.
    """

    source = models.ForeignKey(
        "leads.Source", on_delete=models.CASCADE, related_name="channel_secrets"
    )
    section = models.CharField(_("channel"), max_length=20)  # "ftp", "imap"
    name = models.CharField(_("name"), max_length=40, default="password")
    value_encrypted = models.TextField()
    updated_at = models.DateTimeField(_("changed"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("channel secret")
        constraints = [
            models.UniqueConstraint(
                fields=["source", "section", "name"], name="channel_secret_unique_per_source"
            )
        ]

    def __str__(self) -> str:
        return f"{self.section}.{self.name} of source {self.source_id}"


from leadloop.intake.web_forms.models import *  # noqa: E402, F403
