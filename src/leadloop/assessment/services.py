"""Assessment: run the stages over a lead and keep what they found on it.

ctx = assess(lead, meta=submission.meta)   # at intake, before the lead is saved: no writes
reassess_lead(lead, by=user)               # later, on demand: writes results and a timeline entry
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.assessment.context import (
    RESULT_FIELDS,
    Context,
    DeviceReport,
    DuplicateResult,
    Enrichment,
    Verdict,
    Verification,
)
from leadloop.assessment.findings import Finding, render
from leadloop.assessment.models import DuplicatePair
from leadloop.assessment.person_data import forget_person_data as forget_person_data
from leadloop.assessment.person_data import merge_records as merge_records
from leadloop.assessment.priority import priority_of
from leadloop.assessment.scoring import rules
from leadloop.assessment.stages import PIPELINE
from leadloop.errors import Conflict, InvalidTransition, ValidationFailed
from leadloop.leads import services as leads_services
from leadloop.leads.models import ActivityKind, Lead, LeadHold, LeadStatus

logger = logging.getLogger(__name__)

# Statuses assessment may still move: once sales has the lead, readiness is theirs to judge.
OPEN_TO_ASSESSMENT = frozenset({LeadStatus.NEW, LeadStatus.NURTURING, LeadStatus.SALES_READY})


def assess(
    lead: Lead,
    *,
    meta: Mapping[str, Any] | None = None,
    now: dt.datetime | None = None,
    trusted: bool = False,
) -> Context:
    """Run every stage over `lead` and set its assessment columns (writes nothing).

    Each stage gets the earlier outputs it declared and its output is kept under its name in
    `ctx.outputs`. A stage that fails is recorded in the results, has no output (its dependants
    get None) and the others still run: assessment never stops the intake.
    """
    snapshot = rules.current()
    ctx = Context(
        lead=lead,
        meta=meta or {},
        now=now or timezone.now(),
        rules=snapshot,
        policy=snapshot.policy_for(lead.source_id),
        is_new=lead.pk is None,
        trusted=trusted,
    )
    findings: list[Finding] = []
    outputs = ctx.outputs
    for stage in PIPELINE:
        try:
            found, output = stage(ctx)
        except Exception as exc:  # a stage bug must cost its findings, not the lead
            logger.exception("assessment stage failed stage=%s lead=%s", stage.__name__, lead.pk)
            ctx.errors.append(
                {"stage": stage.__name__, "error": f"{type(exc).__name__}: {exc}"[:300]}
            )
            continue
        findings.extend(found)
        outputs[stage.name] = output
    _apply(ctx, findings)
    return ctx


def _apply(ctx: Context, findings: list[Finding]) -> None:
    lead, outputs = ctx.lead, ctx.outputs
    verification: Verification | None = outputs.get("verify")
    device: DeviceReport | None = outputs.get("device")
    enrichment: Enrichment | None = outputs.get("enrich")
    dedup: DuplicateResult | None = outputs.get("dedup")
    duplicate = dedup.match if dedup is not None else None
    lead.fraud_score = ctx.fraud_score
    if device is not None and device.get("ip"):
        lead.client_ip = device["ip"]
    if device is not None and device.get("fingerprint"):
        lead.device_fingerprint = str(device["fingerprint"])[:128]
    # Holds are placed at intake only; a reassessment leaves a person's review decision alone.
    if ctx.is_new:
        lead.hold = _hold(ctx)
    reviewed = bool((lead.assessment or {}).get("fraud_accepted_by_review"))
    lead.priority, priority_parts = priority_of(lead, now=ctx.now)
    lead.assessed_at = ctx.now
    lead.assessment = {
        "findings": [f.as_dict() for f in findings],
        "errors": ctx.errors,
        "raw": ctx.raw,
        "normalized": verification.normalized if verification is not None else {},
        "device": device.data if device is not None else {},
        "appended": enrichment.appended if enrichment is not None else {},
        "fraud": {"score": ctx.fraud_score, "verdict": ctx.fraud_verdict},
        "duplicate": (
            {
                "lead_id": duplicate.lead_id,
                "score": round(duplicate.score, 3),
                "reasons": list(duplicate.reasons),
                "action": ctx.policy.on_duplicate,
            }
            if duplicate
            else None
        ),
        "fit_points": ctx.fit_points,
        "readiness": ctx.readiness,
        "priority": priority_parts,
        "assessed_at": ctx.now.isoformat(),
        "meta": {k: ctx.meta[k] for k in KEPT_META if k in ctx.meta},
    }
    if reviewed:
        lead.assessment["fraud_accepted_by_review"] = True


# The request details a later reassessment needs again (the submission itself stays in intake).
KEPT_META = (
    "ip",
    "user_agent",
    "accept_language",
    "fingerprint",
    "headless",
    "time_to_submit_ms",
    "honeypot_filled",
    "form_slug",
)


def _hold(ctx: Context) -> str | None:
    if ctx.trusted:
        return None
    if ctx.fraud_verdict == Verdict.REVIEW:
        return LeadHold.FRAUD_REVIEW
    if ctx.duplicate is not None and ctx.policy.on_duplicate == "review":
        return LeadHold.DUPLICATE_REVIEW
    return None


def initial_status(ctx: Context) -> str:
    """The status a new lead starts in: held leads stay new until a person has looked."""
    if ctx.lead.hold:
        return LeadStatus.NEW
    return LeadStatus.SALES_READY if ctx.sales_ready else LeadStatus.NURTURING


@transaction.atomic
def reassess_lead(lead: Lead, *, by: Actor = SYSTEM, now: dt.datetime | None = None) -> Context:
    """Assess a stored lead again with today's rules and data, and move it to sales-ready or
    nurturing when the readiness verdict changed (only while it has not gone to sales).

    A lead's first assessment (one written in bulk by an import) writes no "Assessed" entry:
    nothing changed that a person did; a status move is still on the timeline.
    """
    locked = Lead.objects.select_for_update().select_related("source").get(pk=lead.pk)
    if locked.erased_at is not None:
        # Nothing is left to assess, and a new verdict must not move a tombstone.
        raise Conflict(_("This lead's personal data was erased."))
    first = locked.assessed_at is None
    before = {name: getattr(locked, name) for name in RESULT_FIELDS}
    ctx = assess(locked, meta=(locked.assessment or {}).get("meta") or {}, now=now)
    changed = {
        name: {"old": _plain(before[name]), "new": _plain(getattr(locked, name))}
        for name in RESULT_FIELDS
        if name not in ("assessment", "assessed_at") and before[name] != getattr(locked, name)
    }
    leads_services.apply_changes(
        locked,
        {name: getattr(locked, name) for name in RESULT_FIELDS},
        by=by,
        at=ctx.now,
        activity="" if first else ActivityKind.ASSESSED,
        message=", ".join(changed) if changed else "",
        data={"changes": changed},
    )
    _move_by_readiness(locked, ctx, by=by)
    return ctx


def _move_by_readiness(lead: Lead, ctx: Context, *, by: Actor) -> None:
    if lead.status not in OPEN_TO_ASSESSMENT or lead.hold or lead.merged_into_id:
        return
    target = LeadStatus.SALES_READY if ctx.sales_ready else LeadStatus.NURTURING
    if lead.status != target:
        leads_services.transition(lead, to=target, by=by, note=ctx.readiness.get("summary", ""))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def reassess_after_edit(lead: Lead) -> Context:
    """A person changed the lead's fields (BANT answers, job title, address): judge it again,
    so a lead whose answers now meet the readiness rule becomes sales-ready at once. The
    assessment acts as the system: a partner may edit a lead but not move it to sales-ready."""
    return reassess_lead(lead, by=SYSTEM)


def reassess_leads(lead_ids: Iterable[int], *, by: Actor = SYSTEM) -> int:
    """Reassess many leads, one short transaction each; returns how many were assessed."""
    done = 0
    for lead_id in lead_ids:
        lead = Lead(pk=lead_id)
        try:
            reassess_lead(lead, by=by)
        except (Lead.DoesNotExist, Conflict):
            continue
        done += 1
    return done


def fraud_reasons(ctx: Context) -> list[dict[str, Any]]:
    """The fraud findings as a submission's rejection reasons (the sender hears the score)."""
    reasons = [_as_reason(f) for f in _stage_findings(ctx, "fraud") if f.get("points", 0) > 0]
    if reasons:
        return reasons
    template = gettext_noop("fraud score %(score)d")
    return [
        {
            "code": "fraud",
            "message": gettext(template) % {"score": ctx.fraud_score},
            "t": template,
            "p": {"score": ctx.fraud_score},
        }
    ]


def _as_reason(found: dict[str, Any]) -> dict[str, Any]:
    """A fraud finding as a rejection reason, with its message id and parameters kept so the
    queue shows it in the reader's language (intake.outcome.reason_text)."""
    data = dict(found.get("data") or {})
    template = data.pop("_t", None)
    reason: dict[str, Any] = {"code": "fraud", "message": render(found)}
    if isinstance(template, str):
        reason["t"] = template
        if data:
            reason["p"] = data
    return reason


def _stage_findings(ctx: Context, stage: str) -> list[dict[str, Any]]:
    return [f for f in (ctx.lead.assessment or {}).get("findings", []) if f.get("stage") == stage]


def summary(ctx: Context) -> dict[str, Any]:
    """What the "created" timeline entry says about the verdict."""
    note: dict[str, Any] = {"status": ctx.lead.status, "priority": ctx.lead.priority}
    if ctx.lead.fit_grade:
        note["grade"] = ctx.lead.fit_grade
    if ctx.fraud_score:
        note["fraud_score"] = ctx.fraud_score
    if ctx.lead.hold:
        note["hold"] = ctx.lead.hold
    if ctx.readiness.get("summary"):
        note["readiness"] = ctx.readiness["summary"]
    return note


def record_intake_results(ctx: Context, *, by: Actor) -> None:
    """After a new lead is saved: remember a suspected duplicate as a pair for the review screen."""
    if ctx.duplicate is None or ctx.lead.pk is None:
        return
    DuplicatePair.objects.get_or_create(
        lead_id=ctx.lead.pk,
        other_id=ctx.duplicate.lead_id,
        defaults={
            "score": ctx.duplicate.score,
            "reasons": list(ctx.duplicate.reasons),
            "found_at": ctx.now,
        },
    )


# Fields a repeat submission may fill on the lead it is merged into, when they are empty there.
ABSORBED_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone_raw",
    "phone_e164",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "country",
    "job_title",
    "company_name",
    "language",
)


def absorb_submission(ctx: Context, *, submission_id: int, by: Actor) -> Lead:
    """Fold a new submission into the existing lead it duplicates: a timeline entry and a new
    touchpoint of its source, and the values the existing lead lacked. Nothing is overwritten."""
    assert ctx.duplicate is not None
    new = ctx.lead
    existing = Lead.objects.select_for_update().get(pk=ctx.duplicate.lead_id)
    if existing.merged_into_id:
        existing = Lead.objects.select_for_update().get(pk=existing.merged_into_id)
    filled = {}
    for name in ABSORBED_FIELDS:
        value = getattr(new, name)
        if value and not getattr(existing, name):
            setattr(existing, name, value)
            filled[name] = value
    if filled:
        leads_services.apply_changes(existing, filled, by=by, at=ctx.now)
    leads_services.record_activity(
        existing,
        kind=ActivityKind.FORM_SUBMITTED,
        by=by,
        message=new.source.name,
        data={
            "touchpoint": True,
            "source_id": new.source_id,
            "source": new.source.name,
            "campaign_id": new.campaign_id,
            "submission_id": submission_id,
            "match": {
                "score": round(ctx.duplicate.score, 3),
                "reasons": list(ctx.duplicate.reasons),
            },
            "filled": filled,
            "utm_campaign": new.utm_campaign,
        },
        at=ctx.now,
    )
    leads_services.record_merge(existing, merged=[], by=by, at=ctx.now, submission_id=submission_id)
    return existing


class ReviewDecision:
    ACCEPT = "accept"
    REJECT = "reject"


@transaction.atomic
def review_lead(lead: Lead, *, decision: str, by: Actor, note: str = "") -> Lead:
    """A person's verdict on a held lead: accept releases it to sales-ready or nurturing by the
    readiness rule; reject disqualifies it. Either way the hold is cleared and logged."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.hold:
        raise InvalidTransition(_("This lead is not waiting for a review."))
    if decision not in (ReviewDecision.ACCEPT, ReviewDecision.REJECT):
        raise ValidationFailed(
            _("Choose accept or reject."), errors={"decision": [_("Choose accept or reject.")]}
        )
    hold = locked.hold
    leads_services.apply_changes(locked, {"hold": None}, by=by)
    leads_services.record_activity(
        locked,
        kind=ActivityKind.REVIEWED,
        by=by,
        message=note[:500],
        data={"hold": hold, "decision": decision},
    )
    if decision == ReviewDecision.REJECT:
        if locked.status != LeadStatus.DISQUALIFIED:
            leads_services.transition(
                locked, to=LeadStatus.DISQUALIFIED, by=by, note=note or _("Rejected in review.")
            )
        return Lead.objects.get(pk=locked.pk)
    if hold == LeadHold.FRAUD_REVIEW:
        # A person vouched for it: the fraud verdict no longer holds back readiness.
        assessment = {**(locked.assessment or {}), "fraud_accepted_by_review": True}
        leads_services.apply_changes(locked, {"assessment": assessment}, by=by, touch=False)
    reassess_lead(locked, by=by)
    return Lead.objects.get(pk=locked.pk)


ENGAGEMENT_ACTIVITY_KINDS = frozenset(
    {
        ActivityKind.EMAIL_OPENED,
        ActivityKind.EMAIL_CLICKED,
        ActivityKind.PAGE_VISIT,
        ActivityKind.SURVEY_ANSWERED,
        ActivityKind.FORM_SUBMITTED,
    }
)


@transaction.atomic
def log_engagement(
    lead: Lead,
    *,
    kind: str,
    by: Actor,
    data: Mapping[str, Any] | None = None,
    message: str = "",
    at: dt.datetime | None = None,
) -> Lead:
    """Record a behaviour event (open, click, visit, survey answer, form) on the timeline and
    score the lead again, so engagement, readiness and priority follow at once."""
    if kind not in ENGAGEMENT_ACTIVITY_KINDS:
        raise ValidationFailed(
            _("Unknown engagement event %(kind)r.") % {"kind": kind},
            errors={"kind": [", ".join(sorted(ENGAGEMENT_ACTIVITY_KINDS))]},
        )
    leads_services.record_activity(
        lead, kind=kind, by=by, message=message[:500], data=dict(data or {}), at=at
    )
    reassess_lead(lead, by=SYSTEM, now=at)
    return Lead.objects.get(pk=lead.pk)


def create_lead(
    data: Mapping[str, Any], *, source: Any, by: Actor, at: dt.datetime | None = None
) -> Lead:
    """A lead entered by a person (UI or API), assessed like any other.

    A person vouches for what they type: fraud signals and a duplicate are findings (and a pair
    on the duplicates screen) but never hold or refuse it. The status follows the readiness rule.
    """
    lead = leads_services.prepare_lead(data, source=source, by=by, at=at)
    ctx = assess(lead, now=at, trusted=True)
    lead.status = initial_status(ctx)
    with transaction.atomic():
        leads_services.save_new_lead(lead, by=by, note=summary(ctx))
        record_intake_results(ctx, by=by)
    return lead


# Statuses whose scores still steer work: a closed lead's priority no longer matters.
OPEN_STATUSES = (
    LeadStatus.NEW,
    LeadStatus.NURTURING,
    LeadStatus.SALES_READY,
    LeadStatus.ASSIGNED,
    LeadStatus.CONTACTED,
    LeadStatus.QUOTED,
)


def refresh_scores(*, now: dt.datetime | None = None, batch: int = 500) -> int:
    """Let time act on open leads: engagement fades by its half-life and a first contact that
    comes due raises the priority. Writes only scores that changed, no timeline entries (the
    facts did not change, the clock did); returns how many leads changed."""
    from leadloop.assessment.stages.score import refresh_engagement

    now = now or timezone.now()
    snapshot = rules.current()
    changed = 0
    last_id = 0
    while True:
        leads = list(
            Lead.objects.filter(status__in=OPEN_STATUSES, merged_into__isnull=True, pk__gt=last_id)
            .select_related("source")
            .order_by("pk")[:batch]
        )
        if not leads:
            return changed
        last_id = leads[-1].pk
        dirty = []
        for lead in leads:
            before = (lead.engagement_score, lead.priority)
            if lead.engagement_score:
                lead.engagement_score = refresh_engagement(lead, snapshot=snapshot, now=now)
            lead.priority = priority_of(lead, now=now)[0]
            if (lead.engagement_score, lead.priority) != before:
                dirty.append(lead)
        if dirty:
            leads_services.apply_bulk(dirty, ["engagement_score", "priority"])
            changed += len(dirty)
