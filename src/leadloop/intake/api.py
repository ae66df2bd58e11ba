"""/api/v1/intake: the submission queue, reprocessing, and each source's field mapping."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.http import FileResponse, HttpRequest, HttpResponse
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from pydantic import ConfigDict, Field

from leadloop.accounts.actors import Actor, SourceActor
from leadloop.accounts.selectors import can_manage_configuration
from leadloop.core.client_ip import client_ip
from leadloop.errors import NotFound, Throttled, ValidationFailed
from leadloop.intake import selectors, services
from leadloop.intake import throttle as intake_throttle
from leadloop.intake.channels import settings as channel_settings
from leadloop.intake.channels.http.parser import HTTP_CHANNEL
from leadloop.intake.imports import services as import_batches
from leadloop.intake.mapping import validate_mapping
from leadloop.intake.models import ImportBatch, RawSubmission, SubmissionState
from leadloop.intake.review.originals import download
from leadloop.leads import selectors as leads_selectors
from leadloop.leads.models import Source

router = Router()


def _actor(request: HttpRequest) -> Actor:
    from leadloop.accounts.actors import actor_from_request

    return actor_from_request(request)


def submit_lead_as_source(
    request: HttpRequest, actor: SourceActor, source: Source
) -> tuple[int, bool]:
    """A lead sender's post to /api/v1/leads takes the one intake, as at /in/<key>: the raw body is
    stored first, the source's mapping applies, repeats answer with the first lead (not new), and
    a refused lead stays in the review queue. Users' own API posts are manual entries and skip it.

    Registered as `leads.entry.submit_as_source` (IntakeConfig.ready); returns the lead's id and
    whether the post created it.
    """
    ip = client_ip(request)
    submission = services.receive(
        source=source,
        channel=HTTP_CHANNEL,
        body=request.body,
        content_type=request.headers.get("Content-Type", "application/json"),
        headers={"User-Agent": request.headers.get("User-Agent", "")[:500]},
        meta={"ip": ip, "via": "api"},
        idempotency_key=request.headers.get("Idempotency-Key", ""),
        throttle=intake_throttle.limits_for(source, ip=ip),
    )
    if submission.state == SubmissionState.THROTTLED:
        raise Throttled(
            "; ".join(r["message"] for r in submission.reasons)
            + " The post was stored; send it again after Retry-After.",
            retry_after=intake_throttle.retry_after(submission.meta),
        )
    submission = services.process_submission(submission.pk, submission=submission)
    if submission.lead_id is None:
        errors: dict[str, list[str]] = {}
        for reason in submission.reasons:
            errors.setdefault(reason.get("field") or "body", []).append(reason["message"])
        raise ValidationFailed(
            "; ".join(r["message"] for r in submission.reasons) or "The lead is not valid.",
            errors=errors,
        )
    return submission.lead_id, submission.disposition == "accepted"


class SubmissionOut(Schema):
    id: int
    source: str
    channel: str
    content_type: str
    received_at: dt.datetime
    state: str
    disposition: str
    reasons: list[dict[str, str]]
    lead_id: int | None
    parent_id: int | None


class SubmissionDetail(SubmissionOut):
    fields: dict[str, Any]
    corrected_fields: dict[str, Any] | None
    headers: dict[str, Any]
    meta: dict[str, Any]
    body_text: str = Field(description="The raw body decoded for reading; /original has the bytes")
    body_size: int
    body_truncated: bool


class SubmissionList(Schema):
    items: list[SubmissionOut]
    next_cursor: str | None


class SubmissionQuery(Schema):
    state: str | None = None
    source: int | None = None
    channel: str | None = None
    cursor: str | None = None
    limit: int = Field(50, ge=1, le=selectors.MAX_PAGE)


class ReprocessIn(Schema):
    model_config = ConfigDict(extra="forbid")
    corrected_fields: dict[str, str] | None = Field(
        None, description="A correction of the parsed fields; the raw original is kept as it was"
    )


class MappingIn(Schema):
    model_config = ConfigDict(extra="forbid")
    fields: dict[str, str] = Field(default_factory=dict, description="incoming label → target")
    transforms: dict[str, str] = Field(default_factory=dict)
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)


def _out(submission: RawSubmission) -> dict[str, Any]:
    return {
        "id": submission.pk,
        "source": submission.source.name,
        "channel": submission.channel,
        "content_type": submission.content_type,
        "received_at": submission.received_at,
        "state": submission.state,
        "disposition": submission.disposition,
        "reasons": submission.reasons,
        "lead_id": submission.lead_id,
        "parent_id": submission.parent_id,
    }


def _detail(submission: RawSubmission) -> SubmissionDetail:
    body = selectors.read_body(submission)
    return SubmissionDetail(
        **_out(submission),
        fields=submission.fields,
        corrected_fields=submission.corrected_fields,
        headers=submission.headers,
        meta=submission.meta,
        body_text=body.text,
        body_size=body.size,
        body_truncated=body.is_truncated,
    )


@router.get("/submissions", response=SubmissionList, summary="The submission queue (newest first)")
def list_submissions(request: HttpRequest, query: Query[SubmissionQuery]) -> SubmissionList:
    page = selectors.list_submissions(
        _actor(request),
        state=query.state,
        source_id=query.source,
        channel=query.channel,
        cursor=query.cursor,
        limit=query.limit,
    )
    return SubmissionList(
        items=[SubmissionOut(**_out(s)) for s in page.items], next_cursor=page.next_cursor
    )


@router.get("/submissions/{submission_id}", response=SubmissionDetail, summary="One submission")
def get_submission(request: HttpRequest, submission_id: int) -> SubmissionDetail:
    return _detail(selectors.get_submission_for(_actor(request), submission_id))


@router.get("/submissions/{submission_id}/original", summary="The raw bytes, as they arrived")
def get_original(request: HttpRequest, submission_id: int) -> HttpResponse:
    actor = _actor(request)
    submission = selectors.get_submission_for(actor, submission_id)
    return download(submission, by=actor, request=request)


@router.get("/leads/{lead_id}/original", summary="The raw payload a lead came from")
def lead_original(request: HttpRequest, lead_id: int) -> HttpResponse:
    actor = _actor(request)
    submission = services.original_for_lead(actor, lead_id)
    if submission is None:
        raise NotFound("This lead was not created from a submission.")
    return download(submission, by=actor, request=request)


@router.post(
    "/submissions/{submission_id}/reprocess",
    response=SubmissionDetail,
    summary="Send a quarantined or rejected submission through again (optionally corrected)",
)
def reprocess(request: HttpRequest, submission_id: int, payload: ReprocessIn) -> SubmissionDetail:
    actor = _actor(request)
    submission = selectors.get_submission_for(actor, submission_id)
    services.reprocess(submission, by=actor, corrected_fields=payload.corrected_fields)
    return _detail(selectors.get_submission_for(actor, submission_id))


@router.post(
    "/sources/{source_id}/reprocess",
    response=dict[str, int],
    summary="Reprocess every quarantined and rejected submission of a source (or one state)",
)
def reprocess_source(
    request: HttpRequest, source_id: int, state: SubmissionState | None = None
) -> dict[str, int]:
    actor = _actor(request)
    source = leads_selectors.get_source_for(actor, source_id)
    return services.reprocess_all(source, by=actor, states=[state] if state else None)


@router.get("/sources/{source_id}/mapping", response=dict[str, Any], summary="A source's mapping")
def get_mapping(request: HttpRequest, source_id: int) -> dict[str, Any]:
    actor = _actor(request)
    source = leads_selectors.get_source_for(actor, source_id)
    if not can_manage_configuration(actor):
        raise NotFound("No such source.")
    mapping = source.field_mapping
    return {
        key: mapping.get(key, {}) for key in ("fields", "transforms", "value_maps", "constants")
    }


@router.put("/sources/{source_id}/mapping", response=dict[str, Any], summary="Replace the mapping")
def put_mapping(request: HttpRequest, source_id: int, payload: MappingIn) -> dict[str, Any]:
    actor = _actor(request)
    source = leads_selectors.get_source_for(actor, source_id)
    services.set_mapping(source, mapping=payload.model_dump(), by=actor)
    return payload.model_dump()


@router.post(
    "/sources/{source_id}/mapping/preview",
    response=list[dict[str, Any]],
    summary="What a mapping would make of the source's latest submissions (nothing saved)",
)
def preview_mapping(
    request: HttpRequest, source_id: int, payload: MappingIn
) -> list[dict[str, Any]]:
    actor = _actor(request)
    source = leads_selectors.get_source_for(actor, source_id)
    # The preview shows real submissions' personal data: reviewers only.
    if not can_manage_configuration(actor):
        raise NotFound("No such source.")
    errors = validate_mapping(payload.model_dump())
    if errors:
        raise ValidationFailed("The mapping is not valid.", errors=errors)
    return services.preview_mapping(source, payload.model_dump())


# --- Batch import --------------------------------------------------------------------------------


class ImportOut(Schema):
    id: int
    filename: str
    source_id: int
    campaign_id: int | None
    state: str
    progress: int = Field(description="Percent of the file read")
    rows_read: int
    rows_created: int
    rows_duplicate: int
    rows_rejected: int
    rows_set_aside: int
    message: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    mapping: dict[str, Any]


def _parse_fields(raw: str | None) -> dict[str, str] | None:
    if not raw:
        return None
    try:
        fields = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed("mapping is not JSON.", errors={"mapping": ["Not JSON."]}) from exc
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise ValidationFailed(
            "mapping must be an object of column → target.", errors={"mapping": ["Not valid."]}
        )
    return {str(k): v for k, v in fields.items()}


def _parse_json_object(raw: str | None) -> dict[str, Any] | None:
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ValidationFailed(
            "outcome_values is not JSON.", errors={"outcome_values": ["Not JSON."]}
        ) from exc
    if not isinstance(value, dict):
        raise ValidationFailed(
            "outcome_values must be an object of value → won, lost, disqualified or open.",
            errors={"outcome_values": ["Not valid."]},
        )
    return value


@router.post(
    "/imports",
    response={202: ImportOut},
    summary="Upload a CSV/XLSX/XLS/ODS file and import it in the background",
)
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    source_id: Form[int],
    campaign_id: Form[int | None] = None,
    mapping: Form[str | None] = None,  # JSON: column → lead field, "extra" or "ignore"
    # JSON: a value of the outcome column → "won", "lost", "disqualified" or "open"
    outcome_values: Form[str | None] = None,
) -> tuple[int, ImportBatch]:
    actor = _actor(request)
    source = leads_selectors.get_linkable_source(actor, source_id, field="source_id")
    campaign = (
        leads_selectors.get_linkable_campaign(actor, campaign_id, field="campaign_id")
        if campaign_id
        else None
    )
    batch = import_batches.upload_and_start(
        file, filename=file.name or "import", source=source, campaign=campaign, by=actor,
        fields=_parse_fields(mapping), outcome_values=_parse_json_object(outcome_values),
    )  # fmt: skip
    return 202, batch


@router.get("/imports/{batch_id}", response=ImportOut, summary="An import's state and counts")
def get_import(request: HttpRequest, batch_id: int) -> ImportBatch:
    return selectors.get_import_batch_for(_actor(request), batch_id)


@router.get("/imports/{batch_id}/rejected", summary="The rejected rows and why, as CSV")
def get_import_rejected(request: HttpRequest, batch_id: int) -> FileResponse:
    from leadloop.intake.imports.views import rejected_response

    return rejected_response(selectors.get_import_batch_for(_actor(request), batch_id))


# --- Channel settings ----------------------------------------------------------------------------


class ChannelIn(Schema):
    """Only the sections sent change; a section holds the keys of `intake.channels.settings`."""

    model_config = ConfigDict(extra="forbid")
    feed: dict[str, Any] | None = None
    ftp: dict[str, Any] | None = None
    imap: dict[str, Any] | None = None
    email_address: str | None = None
    email_rules: dict[str, Any] | None = None


@router.get(
    "/sources/{source_id}/channel",
    response=dict[str, Any],
    summary="A source's channel settings (feed, FTP, IMAP, e-mail); passwords are masked",
)
def get_channel(request: HttpRequest, source_id: int) -> dict[str, Any]:
    source = _config_source(request, source_id)
    return channel_settings.channel_settings_for(source)


@router.put(
    "/sources/{source_id}/channel",
    response=dict[str, Any],
    summary="Change a source's channel settings; an empty password keeps the stored one",
)
def put_channel(request: HttpRequest, source_id: int, payload: ChannelIn) -> dict[str, Any]:
    source = _config_source(request, source_id)
    settings = payload.model_dump(exclude_unset=True)
    channel_settings.set_channel_settings(source, settings=settings, by=_actor(request))
    return channel_settings.channel_settings_for(source)


def _config_source(request: HttpRequest, source_id: int) -> Source:
    """A source whose configuration the caller may see (server names and user names are in it)."""
    actor = _actor(request)
    if not can_manage_configuration(actor):
        raise NotFound("No such source.")
    return leads_selectors.get_source_for(actor, source_id)
