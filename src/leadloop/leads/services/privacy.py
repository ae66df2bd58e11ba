"""A person's rights on their lead: objecting to marketing or processing, and erasure.

`leadloop.privacy` decides who may ask and which leads belong to the person; these verbs only
change the lead app's own rows (the lead, its timeline). The other apps erase their own rows.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.errors import Conflict, ValidationFailed
from leadloop.leads.models import Activity, ActivityKind, ActorKind, Lead
from leadloop.leads.services.timeline import record_activity
from leadloop.leads.services.validation import clean_text

# Every column that describes the person, and the value it takes on erasure. What stays (status,
# source, campaign, UTM tags, country, language, dates, scores, amounts, consent purpose and
# time, owner) is what the analytics count; none of it names the person on its own.
PERSONAL_FIELDS: dict[str, Any] = {
    "first_name": "",
    "last_name": "",
    "email": "",
    "phone_raw": "",
    "phone_e164": "",
    "street": "",
    "house_number": "",
    "postal_code": "",
    "city": "",
    "region": "",
    "job_title": "",
    "company_name": "",
    "external_ref": "",
    "referrer": "",
    "landing_page": "",
    "extra": {},
    "search_text": "",
    "name_key": None,
    "address_key": None,
    "street_name_key": None,
    "house_name_key": None,
    "client_ip": None,
    "device_fingerprint": None,
    "objection_source": None,
}
# The keys of timeline data that hold ids, statuses and names of our own staff, sources and
# reasons, never the person's values; everything else in an erased lead's timeline is dropped.
SAFE_ACTIVITY_KEYS = frozenset(
    {
        "from",
        "to",
        "lost_reason",
        "order_value",
        "source",
        "import_batch",
        "merge_id",
        "merged_id",
        "survivor_id",
        "pair_id",
        "not_duplicate_of",
        "changed",
        "restored",
        "before",
        "after",
        "status",
        "grade",
        "sales_ready",
        "fraud_score",
        "marketing",
        "processing",
        "withdrawn",
        "reason",
        "erased",
        "touchpoint",
        "source_id",
        "campaign_id",
        "submission_id",
    }
)
OBJECTION_KINDS = ("marketing", "processing")


def _scrubbed_data(data: dict[str, Any]) -> dict[str, Any]:
    """What an erased lead's timeline entry keeps: its safe keys, and which fields changed."""
    kept = {k: v for k, v in data.items() if k in SAFE_ACTIVITY_KEYS}
    changes = data.get("changes")
    if isinstance(changes, list):
        kept["fields"] = sorted(str(c.get("field", "")) for c in changes if isinstance(c, dict))
    elif isinstance(changes, dict):
        kept["fields"] = sorted(str(k) for k in changes)
    return kept


def erase_lead_personal_data(lead: Lead, *, by: Actor, reason: str, at: dt.datetime) -> bool:
    """Blank the person's values on one lead and on every entry of its timeline; irreversible.

    Keeps the row (status, source, campaign, dates, amounts) as a tombstone so counts and revenue
    stay right, and appends an "erased" entry that says when, why and by whom, without any of the
    erased values. Returns False for a lead erased before (nothing to do). The caller holds the
    transaction; the lead row is locked here.
    """
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.erased_at is not None:
        return False
    for name, blank in PERSONAL_FIELDS.items():
        setattr(locked, name, blank)
    # Findings keep their stage, code and points (the fraud and grade statistics), not their
    # messages or data (normalised e-mail, device, address, IP, appended company data).
    doc = locked.assessment if isinstance(locked.assessment, dict) else {}
    locked.assessment = {
        "erased": True,
        "findings": [
            {k: f[k] for k in ("stage", "code", "points") if k in f}
            for f in doc.get("findings") or []
            if isinstance(f, dict)
        ],
    }
    # Not assessed again: there is nothing left to assess, and a new verdict could move it.
    locked.assessed_at = locked.assessed_at or at
    locked.hold = None  # out of the review queues: nobody can judge a tombstone
    locked.erased_at = at
    locked.updated_at = at
    # Through save(): the search index's trigger replaces the lead's tokens with nothing.
    locked.save(
        update_fields=[
            *PERSONAL_FIELDS,
            "assessment",
            "assessed_at",
            "hold",
            "erased_at",
            "updated_at",
        ]
    )
    for activity in Activity.objects.filter(lead_id=locked.pk).only("pk", "data", "actor_kind"):
        changes: dict[str, Any] = {
            "message": "",
            "data": _scrubbed_data(activity.data or {}),
        }
        if activity.actor_kind == ActorKind.LEAD:
            changes["actor_label"] = ""  # the person's own name, as the actor of an e-mail open
        Activity.objects.filter(pk=activity.pk).update(**changes)
    record_activity(
        locked,
        kind=ActivityKind.ERASED,
        by=by,
        message=_("Personal data erased."),
        data={"reason": reason},
        at=at,
    )
    lead.erased_at = at
    return True


@transaction.atomic
def record_objection(
    lead: Lead,
    *,
    by: Actor,
    marketing: bool | None = None,
    processing: bool | None = None,
    source: str = "",
    at: dt.datetime | None = None,
) -> Lead:
    """Record (True) or withdraw (False) a person's opt-out of marketing and objection to
    processing, with where the request came from; the timeline says so. None leaves one as is.

    An objection to processing also stops marketing (GDPR art. 21: direct marketing must stop at
    any objection). Setting what is already set changes nothing and writes no entry.
    """
    if marketing is None and processing is None:
        raise ValidationFailed(
            _("Say what the person objects to."),
            errors={"marketing": [_("Choose marketing, processing or both.")]},
        )
    text = clean_text(source)[:200]
    if (marketing or processing) and not text:
        raise ValidationFailed(
            _("Say how the request reached you."),
            errors={"source": [_("Required, e.g. 'e-mail of 3 March' or 'unsubscribe link'.")]},
        )
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if locked.erased_at is not None:
        raise Conflict(_("This lead's personal data was erased."))
    if processing:
        marketing = True
    now = at or timezone.now()
    changed: dict[str, bool] = {}
    for kind, wanted, column in (
        ("marketing", marketing, "marketing_opt_out_at"),
        ("processing", processing, "processing_objected_at"),
    ):
        if wanted is None or (getattr(locked, column) is not None) == wanted:
            continue
        setattr(locked, column, now if wanted else None)
        changed[kind] = wanted
    if not changed:
        return locked
    if any(changed.values()):
        locked.objection_source = text
    elif locked.marketing_opt_out_at is None and locked.processing_objected_at is None:
        locked.objection_source = None
    locked.updated_at = now
    locked.save(
        update_fields=[
            "marketing_opt_out_at",
            "processing_objected_at",
            "objection_source",
            "updated_at",
        ]
    )
    record_activity(
        locked,
        kind=ActivityKind.OBJECTION,
        by=by,
        message=text,
        data=changed,
        at=now,
    )
    return locked


def compact_search_index() -> str:
    """Merge the search index so no erased word lingers in its older segments (SQLite's FTS5
    keeps a deleted row's tokens until its segments are merged). PostgreSQL's trigram index
    drops them when autovacuum runs; nothing to do here."""
    if connection.vendor != "sqlite":
        return "skipped"
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO leads_lead_fts(leads_lead_fts) VALUES ('optimize')")
    return "optimized"
