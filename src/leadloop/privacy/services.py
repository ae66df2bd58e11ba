"""A person's rights (GDPR): a copy of their data, erasure, objection, and retention.

doc = export_person(PersonQuery(email="ann@example.com"), by=admin)       # art. 15 and 20
erase_person(PersonQuery(email="ann@example.com"), by=admin, confirm=…)  # art. 17, irreversible
record_objection(lead_id, by=rep, marketing=True, source="phone call")    # art. 21
apply_retention(now=…)                                                    # the daily job

Erasure reaches every app through its own service: leads (the lead and its timeline), intake
(the raw submissions), assessment (merge snapshots, pairs, enrichment cache) and the sections
upper apps register in `privacy.registry`. The rows stay as tombstones, so counts per source,
status and campaign, costs and revenue do not change.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.audit import record_audit, record_audit_many
from leadloop.accounts.models import AuditAction, AuditTarget, User
from leadloop.assessment import services as assessment_services
from leadloop.core import retry
from leadloop.errors import NotFound, ValidationFailed
from leadloop.intake import selectors as intake_selectors
from leadloop.intake import services as intake_services
from leadloop.intake.models import SubmissionState
from leadloop.leads import selectors as leads_selectors
from leadloop.leads import services as leads_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.privacy import registry, selectors
from leadloop.privacy.models import RetentionRule, RetentionTarget
from leadloop.privacy.selectors import Person, PersonQuery
from leadloop.webhooks.services import privacy as webhook_privacy

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "leadloop.person-export/1"
CONFIRM_WORD = "ERASE"
MAX_KEEP_DAYS = 36_500
RETENTION_BATCH = 500


# --- Export --------------------------------------------------------------------------------------


def export_person(
    query: PersonQuery, *, by: Actor, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Everything stored about the person `query` names, as one JSON-safe document: every lead
    (all columns, extra fields included), timelines, raw submissions, consent and objections,
    merges, and the sections of upper apps (deliveries). Admins and marketing only."""
    person = selectors.find_person(by, query)
    ids = person.lead_ids
    submissions = intake_selectors.list_person_submissions(ids, also=person.unlinked_submission_ids)
    doc: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": (now or timezone.now()).isoformat(),
        "query": query.as_dict(),
        "leads": [leads_selectors.lead_record(lead) for lead in person.leads],
        "timeline": leads_selectors.timeline_records(ids),
        "submissions": [intake_selectors.submission_record(s) for s in submissions],
        "consent": [
            {
                "lead_id": lead.pk,
                "purpose": lead.consent_purpose,
                "given_at": _iso(lead.consent_at),
                "text_version": lead.consent_text_version,
            }
            for lead in person.leads
            if lead.consent_at or lead.consent_purpose
        ],
        "objections": [
            {
                "lead_id": lead.pk,
                "marketing_opt_out_at": _iso(lead.marketing_opt_out_at),
                "processing_objected_at": _iso(lead.processing_objected_at),
                "received_through": lead.objection_source or "",
            }
            for lead in person.leads
            if lead.marketing_opt_out_at or lead.processing_objected_at
        ],
        "merges": assessment_services.merge_records(ids),
    }
    for name, section in registry.SECTIONS.items():
        doc[name] = section.export(ids)
    doc["webhooks"] = webhook_privacy.recipients_of(ids)
    # Which kind of query, never its value: the audit log must not hold the person's address.
    record_audit_many(
        actor=by,
        action=AuditAction.PRIVACY_EXPORT,
        target_type=AuditTarget.LEAD,
        target_ids=ids,
        data={"by": sorted(k for k, v in query.as_dict().items() if v)},
    )
    return doc


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- Erasure -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErasureResult:
    """What one erasure changed: ids of the erased leads and row counts per kind."""

    lead_ids: list[int]
    counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"lead_ids": self.lead_ids, "counts": self.counts}


def _check_confirmation(confirm: str, person: Person) -> None:
    typed = (confirm or "").strip()
    emails = {lead.email.lower() for lead in person.leads if lead.email}
    if person.query.email:
        emails.add(person.query.email.lower())
    if typed == CONFIRM_WORD or (typed and typed.lower() in emails):
        return
    raise ValidationFailed(
        _("Type the person's e-mail address or ERASE to confirm the erasure."),
        errors={"confirm": [_("Does not match; nothing was erased.")]},
    )


def erase_person(
    query: PersonQuery, *, by: Actor, confirm: str, reason: str = "request"
) -> ErasureResult:
    """Erase the person `query` names from every lead, timeline and submission; irreversible.

    `confirm` must be the person's e-mail address or the word ERASE. Admins only. The erased
    leads stay as tombstones with status, source, campaign, dates and money; each gets an
    "erased" timeline entry without personal data. NotFound when nothing is stored.
    """
    selectors.require(selectors.can_erase_person(by))
    person = selectors.find_person(by, query)
    if person.is_empty:
        raise NotFound(_("Nothing is stored about this person."))
    _check_confirmation(confirm, person)
    with transaction.atomic():
        result = _erase(
            person.leads,
            submission_ids=person.unlinked_submission_ids,
            by=by,
            reason=reason,
            at=timezone.now(),
        )
    logger.info(
        "person erased leads=%d submissions=%d by=%s",
        result.counts["leads"],
        result.counts["submissions"],
        getattr(by, "username", "system"),
    )
    return result


def _erase(
    leads: list[Lead], *, submission_ids: list[int], by: Actor, reason: str, at: dt.datetime
) -> ErasureResult:
    """The one erasure path, for requests and retention alike; the caller holds the transaction."""
    leads = sorted(leads, key=lambda lead: lead.pk)  # lock in id order: no deadlock between two
    ids = [lead.pk for lead in leads]
    # Before the values go: the enrichment cache is keyed by them.
    counts = assessment_services.forget_person_data(leads)
    counts["leads"] = sum(
        leads_services.erase_lead_personal_data(lead, by=by, reason=reason, at=at) for lead in leads
    )
    counts["submissions"] = intake_services.erase_lead_submissions(
        ids, at=at
    ) + intake_services.erase_submissions(submission_ids, at=at)
    for name, section in registry.SECTIONS.items():
        counts[name] = section.erase(ids, at)
    counts["webhook_messages"] = webhook_privacy.erase_for_leads(ids, at)
    if counts["leads"]:
        transaction.on_commit(partial(_compact_later))
    record_audit_many(
        actor=by,
        action=AuditAction.LEAD_ERASED,
        target_type=AuditTarget.LEAD,
        target_ids=ids,
        data={"reason": reason, "rows": counts},
    )
    return ErasureResult(lead_ids=ids, counts=counts)


def _compact_later() -> None:
    retry.enqueue("leadloop.privacy.tasks.compact_search_index_task")


# --- Objection -----------------------------------------------------------------------------------


def record_objection(
    lead_id: int,
    *,
    by: Actor,
    marketing: bool | None = None,
    processing: bool | None = None,
    source: str = "",
) -> Lead:
    """Note (or withdraw) the person's opt-out of marketing or objection to processing on a lead
    `by` may see, with how the request came in; staff only (not partners)."""
    selectors.require(selectors.can_record_objection(by))
    lead = leads_selectors.get_lead_for(by, lead_id)
    lead = leads_services.record_objection(
        lead, by=by, marketing=marketing, processing=processing, source=source
    )
    record_audit(
        actor=by,
        action=AuditAction.LEAD_CHANGED,
        target_type=AuditTarget.LEAD,
        target_id=lead.pk,
        target_label=f"#{lead.pk}",
        data={"objection": {"marketing": marketing, "processing": processing}},
    )
    return lead


# --- Retention -----------------------------------------------------------------------------------


def _valid_states(target: str) -> list[str]:
    if target == RetentionTarget.SUBMISSION:
        return [s for s in SubmissionState.values if s != SubmissionState.RECEIVED]
    return list(LeadStatus.values)


def set_retention_rule(
    *, by: Actor, target: str, state: str, keep_days: int, is_active: bool = True
) -> RetentionRule:
    """Create or change the rule for one submission state or lead status; admins only."""
    selectors.require(selectors.can_manage_retention(by))
    errors: dict[str, list[str]] = {}
    if target not in RetentionTarget.values:
        errors["target"] = [_("Choose submission or lead.")]
    elif state not in _valid_states(target):
        errors["state"] = [
            _("Choose one of: %(states)s.") % {"states": ", ".join(_valid_states(target))}
        ]
    if not 1 <= keep_days <= MAX_KEEP_DAYS:
        errors["keep_days"] = [_("Between 1 and %(max)d days.") % {"max": MAX_KEEP_DAYS}]
    if errors:
        raise ValidationFailed(_("The retention rule is not valid."), errors=errors)
    rule, _created = RetentionRule.objects.update_or_create(
        target=target,
        state=state,
        defaults={
            "keep_days": keep_days,
            "is_active": is_active,
            "updated_by": by if isinstance(by, User) else None,
        },
    )
    record_audit(
        actor=by,
        action=AuditAction.RULE_CHANGED,
        target_type=AuditTarget.RULE,
        target_id=rule.pk,
        target_label=f"retention {target}/{state}",
        data={"keep_days": keep_days, "is_active": is_active},
    )
    return rule


@dataclass
class RuleOutcome:
    target: str
    state: str
    keep_days: int
    cutoff: dt.datetime
    count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "state": self.state,
            "keep_days": self.keep_days,
            "cutoff": self.cutoff.isoformat(),
            "count": self.count,
        }


@dataclass(frozen=True)
class RetentionReport:
    """What a retention run erased (or, in a dry run, would erase), per rule."""

    dry_run: bool
    rules: list[RuleOutcome]

    @property
    def total(self) -> int:
        return sum(r.count for r in self.rules)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "total": self.total,
            "rules": [r.as_dict() for r in self.rules],
        }


def apply_retention(
    *, by: Actor = SYSTEM, now: dt.datetime | None = None, dry_run: bool = False
) -> RetentionReport:
    """Erase what every active retention rule says is kept long enough, through the same path as
    an erasure request; with `dry_run`, only count. The daily job calls it as the system; of
    people, only admins may.

    Each lead (with the leads merged into it) is erased in its own short transaction, and
    submissions in batches, so a big first run never holds a long lock. Safe to run twice.
    """
    selectors.require(selectors.can_manage_retention(by))
    now = now or timezone.now()
    outcomes = []
    for rule in selectors.list_active_rules():
        outcome = RuleOutcome(
            rule.target, rule.state, rule.keep_days, now - dt.timedelta(days=rule.keep_days)
        )
        if rule.target == RetentionTarget.SUBMISSION:
            outcome.count = _expire_submissions(rule.state, outcome.cutoff, now, dry_run)
        else:
            outcome.count = _expire_leads(rule.state, outcome.cutoff, now, dry_run, by=by)
        outcomes.append(outcome)
    report = RetentionReport(dry_run=dry_run, rules=outcomes)
    logger.info("retention applied dry_run=%s erased=%d", dry_run, report.total)
    return report


def _expire_submissions(state: str, cutoff: dt.datetime, now: dt.datetime, dry_run: bool) -> int:
    if dry_run:
        return len(
            intake_selectors.list_submission_ids_past_retention(
                states=[state], received_before=cutoff, limit=10**9
            )
        )
    total = 0
    while True:
        ids = intake_selectors.list_submission_ids_past_retention(
            states=[state], received_before=cutoff, limit=RETENTION_BATCH
        )
        if not ids:
            return total
        with transaction.atomic():
            total += intake_services.erase_submissions(ids, at=now)


def _expire_leads(
    status: str, cutoff: dt.datetime, now: dt.datetime, dry_run: bool, *, by: Actor
) -> int:
    if dry_run:
        return len(
            leads_selectors.list_lead_ids_past_retention(
                statuses=[status], inactive_since=cutoff, limit=10**9
            )
        )
    total = 0
    while True:
        ids = leads_selectors.list_lead_ids_past_retention(
            statuses=[status], inactive_since=cutoff, limit=RETENTION_BATCH
        )
        if not ids:
            return total
        for lead_id in ids:
            leads = leads_selectors.list_lead_family(lead_id)
            with transaction.atomic():
                _erase(leads, submission_ids=[], by=by, reason="retention", at=now)
            total += 1
