"""Review: fix and reprocess submissions, set a source's mapping, and finish what a crash left."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.core import secrets
from leadloop.errors import Conflict, NotFound, ValidationFailed
from leadloop.intake import channels
from leadloop.intake.channels import ParseError
from leadloop.intake.mapping import Candidate, MappingError, map_record, validate_mapping
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.outcome import (
    reason,
)
from leadloop.intake.services.processing import _quarantine, process_submission
from leadloop.leads import selectors as leads_selectors
from leadloop.leads import services as leads_services
from leadloop.leads.models import Source

logger = logging.getLogger(__name__)


# --- Review: fix and reprocess -------------------------------------------------------------------


@transaction.atomic
def reprocess(
    submission: RawSubmission, *, by: Actor, corrected_fields: Mapping[str, str] | None = None
) -> RawSubmission:
    """Send a quarantined, rejected or throttled submission through the pipeline again.

    With `corrected_fields` a person's fix replaces what the parser read; the raw original is
    never changed.
    """
    require(by, Permission.REVIEW_INTAKE)
    locked = RawSubmission.objects.select_for_update().get(pk=submission.pk)
    if not locked.is_reviewable:
        raise Conflict(_("Only quarantined, rejected or throttled submissions can be reprocessed."))
    if corrected_fields is not None:
        locked.corrected_fields = {str(k): str(v) for k, v in corrected_fields.items()}
    locked.state = SubmissionState.RECEIVED
    locked.disposition = ""
    locked.meta = {**locked.meta, "reprocessed_by": getattr(by, "username", "system")}
    locked.save(update_fields=["corrected_fields", "state", "disposition", "meta"])
    return process_submission(locked.pk)


def reprocess_all(
    source: Source, *, by: Actor, states: Iterable[str] | None = None
) -> dict[str, int]:
    """Reprocess every reviewable submission of a source (after a mapping fix); counts outcomes."""
    require(by, Permission.REVIEW_INTAKE)
    reviewable = (SubmissionState.QUARANTINED, SubmissionState.REJECTED, SubmissionState.THROTTLED)
    wanted = [s for s in states or reviewable[:2] if s in reviewable]
    outcome: dict[str, int] = {}
    ids = list(
        RawSubmission.objects.filter(source=source, state__in=wanted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for submission_id in ids:
        result = reprocess(RawSubmission.objects.get(pk=submission_id), by=by)
        outcome[result.state] = outcome.get(result.state, 0) + 1
    return outcome


def set_mapping(source: Source, *, mapping: dict[str, Any], by: Actor) -> Source:
    """Replace a source's field mapping after checking it; keeps the channel settings in it."""
    require(by, Permission.CONFIGURE_SOURCES)
    errors = validate_mapping(mapping)
    for path in secrets.secret_paths(mapping):
        errors[path] = [
            _("Passwords are not kept in the mapping: set them in the channel settings.")
        ]
    if errors:
        raise ValidationFailed(_("The mapping is not valid."), errors=errors)
    source.field_mapping = {**source.field_mapping, **mapping}
    source.save(update_fields=["field_mapping"])
    leads_services.audit_source(source, by=by, change="mapping", sections=sorted(mapping))
    return source


def preview_mapping(
    source: Source, mapping: dict[str, Any], *, limit: int = 5
) -> list[dict[str, Any]]:
    """What `mapping` would make of the source's latest submissions, without saving anything."""
    previews = []
    latest = RawSubmission.objects.filter(source=source, parent__isnull=True).order_by(
        "-received_at"
    )[:limit]
    for submission in latest:
        item: dict[str, Any] = {
            "submission_id": submission.pk,
            "received_at": submission.received_at,
        }
        try:
            records = (
                [submission.corrected_fields]
                if submission.corrected_fields is not None
                else channels.parse(submission)
            )
            candidate = map_record(records[0], mapping) if records else Candidate()
            item.update(
                values=candidate.values, extra=candidate.extra, trace=candidate.trace, error=""
            )
        except (ParseError, MappingError) as exc:
            item.update(values={}, extra={}, trace=[], error=str(exc))
        previews.append(item)
    return previews


def process_orphans(*, now: dt.datetime | None = None) -> int:
    """Finish submissions a crash left `received` (the scheduler calls this); returns how many."""
    now = now or timezone.now()
    orphaned_before = now - dt.timedelta(seconds=settings.LEADLOOP_ORPHAN_AFTER_SECONDS)
    ids = list(
        RawSubmission.objects.filter(
            state=SubmissionState.RECEIVED, received_at__lte=orphaned_before
        )
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
    for submission_id in ids:
        try:
            process_submission(submission_id)
        except Exception:
            # One submission that keeps failing must not stop the others behind it; after
            # three tries it goes to quarantine for a person to look at.
            logger.exception("orphan sweep failed submission=%s", submission_id)
            _give_up_after_attempts(submission_id)
    return len(ids)


MAX_SWEEP_ATTEMPTS = 3


def _give_up_after_attempts(submission_id: int) -> None:
    with transaction.atomic():
        submission = RawSubmission.objects.select_for_update().get(pk=submission_id)
        if submission.state != SubmissionState.RECEIVED:
            return
        submission.attempts += 1
        if submission.attempts < MAX_SWEEP_ATTEMPTS:
            submission.save(update_fields=["attempts"])
            return
        _quarantine(
            submission,
            reasons=[
                reason("failed", _("Processing failed %(n)d times.") % {"n": submission.attempts})
            ],
        )


def original_for_lead(actor: Actor, lead_id: int) -> RawSubmission | None:
    """The first submission a lead came from, if `actor` may see the lead and (a partner user)
    their organisation shows the original; NotFound otherwise."""
    lead = leads_selectors.get_lead_for(actor, lead_id)
    if not lead.shown.shows("original"):
        raise NotFound(_("The original is not shared with your organisation."))
    return RawSubmission.objects.filter(lead=lead).order_by("received_at").first()
