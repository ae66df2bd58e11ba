"""Duplicate pairs, merges and undo: the reads of the duplicates screen and the verbs on it.

merge_leads(survivor, merged, field_choices={"email": merged.pk}, by=user)   # keeps all history
undo_merge(merge, by=user)                                                  # exactly as before
dismiss_pair(pair, by=user)                                                 # "not the same"

Only staff who may see both leads decide a pair; anyone else gets NotFound (no hint the leads
exist). A merged lead keeps its row, timeline and submissions; it only points at its survivor.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import can_see_all_leads, is_staff_role, lead_visibility
from leadloop.assessment import services as assessment_services
from leadloop.assessment.models import DuplicatePair, MatchWeights, Merge, PairState
from leadloop.core.paging import Keyset, Page, paginate
from leadloop.errors import Conflict, NotFound, ValidationFailed
from leadloop.leads import selectors as leads_selectors
from leadloop.leads import services as leads_services
from leadloop.leads.models import ActivityKind, Lead, LeadHold

# The values a merge may take from either lead: one choice per group, its columns move together
# (an address from one lead and a house number from the other would be nobody's address).
MERGE_FIELDS: dict[str, tuple[Any, tuple[str, ...]]] = {
    "first_name": (gettext_lazy("First name"), ("first_name",)),
    "last_name": (gettext_lazy("Last name"), ("last_name",)),
    "email": (gettext_lazy("E-mail"), ("email",)),
    "phone": (gettext_lazy("Phone"), ("phone_raw", "phone_e164")),
    "address": (
        gettext_lazy("Address"),
        ("street", "house_number", "postal_code", "city", "region", "country"),
    ),
    "company": (gettext_lazy("Company"), ("company_name", "organization_id")),
    "job_title": (gettext_lazy("Job title"), ("job_title",)),
    "language": (gettext_lazy("Language"), ("language",)),
}
# Columns kept in step with the merged values.
DERIVED = ("name_key", "address_key", "street_name_key", "house_name_key", "search_text")
PAGE_SIZE = 50


# --- Reads ---------------------------------------------------------------------------------------


def _visible_ids(actor: Actor) -> QuerySet[Lead, Any] | None:
    """The leads `actor` may see as a subquery, or None when they see all."""
    if can_see_all_leads(actor):
        return None
    return Lead.objects.filter(lead_visibility(actor)).values("pk")


def _pairs_for(actor: Actor) -> QuerySet[DuplicatePair]:
    if not can(actor, Permission.STAFF_WORK):
        raise NotFound(_("No such page."))
    pairs = DuplicatePair.objects.all()
    visible = _visible_ids(actor)
    if visible is not None:
        pairs = pairs.filter(lead_id__in=visible, other_id__in=visible)
    return pairs


PAIR_ORDER = Keyset(("score",), ("float",))
PairPage = Page[DuplicatePair]


def list_open_pairs(actor: Actor, *, cursor: str | None = None, limit: int = PAGE_SIZE) -> PairPage:
    """Open pairs between two unmerged leads `actor` may see, most likely first (keyset pages)."""
    pairs = _pairs_for(actor).filter(
        state=PairState.OPEN, lead__merged_into__isnull=True, other__merged_into__isnull=True
    )
    return paginate(
        pairs.select_related("lead", "other"),
        PAIR_ORDER,
        cursor=cursor,
        limit=max(1, min(limit, 200)),
    )


def count_open_pairs(actor: Actor) -> int:
    """How many open pairs wait for `actor` (for the navigation badge)."""
    if not is_staff_role(actor):
        return 0
    return (
        _pairs_for(actor)
        .filter(
            state=PairState.OPEN, lead__merged_into__isnull=True, other__merged_into__isnull=True
        )
        .count()
    )


def get_pair_for(actor: Actor, pair_id: int) -> DuplicatePair:
    """One pair, if `actor` is staff and may see both leads; NotFound otherwise."""
    pair = _pairs_for(actor).select_related("lead", "other").filter(pk=pair_id).first()
    if pair is None:
        raise NotFound(_("No such duplicate pair."))
    return pair


def list_merges(actor: Actor, *, limit: int = 20) -> list[Merge]:
    """The latest merges between leads `actor` may see, newest first (for undo)."""
    if not can(actor, Permission.STAFF_WORK):
        raise NotFound(_("No such page."))
    merges = Merge.objects.select_related("survivor", "merged", "merged_by", "undone_by")
    visible = _visible_ids(actor)
    if visible is not None:
        merges = merges.filter(survivor_id__in=visible, merged_id__in=visible)
    return list(merges.order_by("-merged_at", "-id")[:limit])


def get_merge_for(actor: Actor, merge_id: int) -> Merge:
    """One merge, if `actor` is staff and may see both leads; NotFound otherwise."""
    if not can(actor, Permission.STAFF_WORK):
        raise NotFound(_("No such page."))
    merges = Merge.objects.select_related("survivor", "merged").filter(pk=merge_id)
    visible = _visible_ids(actor)
    if visible is not None:
        merges = merges.filter(survivor_id__in=visible, merged_id__in=visible)
    merge = merges.first()
    if merge is None:
        raise NotFound(_("No such merge."))
    return merge


@dataclass(frozen=True)
class FieldRow:
    """One line of the compare page: a field group, both leads' values, whether they differ."""

    name: str
    label: str
    left: str
    right: str
    differs: bool
    default: str  # "left" or "right": what a merge into the left lead takes by default


def _filled(values: list[Any]) -> int:
    """How many of a field group's values are given: by default a merge keeps the fuller one."""
    return sum(1 for v in values if v not in ("", None))


def _shown(lead: Lead, columns: tuple[str, ...]) -> str:
    if columns == ("company_name", "organization_id"):
        return lead.company_name or (str(lead.organization) if lead.organization_id else "")
    if columns[0] == "phone_raw":
        return lead.phone_e164 or lead.phone_raw
    if columns[0] == "street":
        place = " ".join(v for v in (lead.postal_code, lead.city) if v)
        street = " ".join(v for v in (lead.street, lead.house_number) if v)
        return ", ".join(v for v in (street, place, lead.country) if v)
    return str(getattr(lead, columns[0]) or "")


def compare(left: Lead, right: Lead) -> list[FieldRow]:
    """The mergeable fields of two leads side by side (left is the suggested survivor)."""
    rows = []
    for name, (label, columns) in MERGE_FIELDS.items():
        a = [getattr(left, c) for c in columns]
        b = [getattr(right, c) for c in columns]
        rows.append(
            FieldRow(
                name=name,
                label=str(label),
                left=_shown(left, columns),
                right=_shown(right, columns),
                differs=a != b,
                default="right" if _filled(b) > _filled(a) else "left",
            )
        )
    return rows


# --- Verbs ---------------------------------------------------------------------------------------


def _lock_pair(actor: Actor, first_id: int, second_id: int) -> tuple[Lead, Lead]:
    """Both leads, locked in id order (two merges of the same leads cannot deadlock), after
    checking `actor` may see each; NotFound for one they may not."""
    if not can(actor, Permission.STAFF_WORK):
        raise NotFound(_("No such page."))
    leads_selectors.get_lead_for(actor, first_id)
    leads_selectors.get_lead_for(actor, second_id)
    locked = {
        lead.pk: lead
        for lead in Lead.objects.select_for_update()
        .select_related("source")
        .filter(pk__in=[first_id, second_id])
        .order_by("pk")
    }
    return locked[first_id], locked[second_id]


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def _find_pair(a: int, b: int) -> DuplicatePair | None:
    return (
        DuplicatePair.objects.select_for_update()
        .filter(Q(lead_id=a, other_id=b) | Q(lead_id=b, other_id=a))
        .first()
    )


def _release_holds(leads: list[Lead], *, by: Actor) -> None:
    """A lead held for duplicate review goes on once its pair is decided: assessed again without
    the hold, so it moves to sales-ready or nurturing (or is held again for another match)."""
    for lead in leads:
        if lead.hold != LeadHold.DUPLICATE_REVIEW:
            continue
        leads_services.apply_changes(lead, {"hold": None}, by=by, touch=False)
        if lead.merged_into_id is None:
            assessment_services.reassess_lead(lead, by=by)


@transaction.atomic
def merge_leads(
    survivor: Lead,
    merged: Lead,
    *,
    field_choices: dict[str, int] | None = None,
    by: Actor,
    pair: DuplicatePair | None = None,
) -> Merge:
    """Fold `merged` into `survivor`: the survivor takes the chosen values, the merged lead points
    at it, and both timelines say so. Nothing is deleted, and `undo_merge` reverses it.

    `field_choices` maps a field group of MERGE_FIELDS to the id of the lead whose value to keep;
    a group not named keeps the survivor's values, or takes the merged lead's when those are
    fuller (more of the group's fields filled in). Locks both leads; NotFound for a lead `by`
    may not see.
    """
    if survivor.pk == merged.pk:
        raise ValidationFailed(
            _("A lead cannot be merged into itself."),
            errors={"survivor_id": [_("Choose the other lead.")]},
        )
    choices = dict(field_choices or {})
    unknown = sorted(set(choices) - set(MERGE_FIELDS))
    wrong = sorted(
        k for k, v in choices.items() if k in MERGE_FIELDS and v not in (survivor.pk, merged.pk)
    )
    if unknown or wrong:
        raise ValidationFailed(
            _("Some field choices are not valid."),
            errors={
                **{f"fields.{k}": [_("Unknown field.")] for k in unknown},
                **{f"fields.{k}": [_("Choose one of the two leads.")] for k in wrong},
            },
        )
    keep, gone = _lock_pair(by, survivor.pk, merged.pk)
    if keep.merged_into_id or gone.merged_into_id:
        raise Conflict(_("One of these leads was merged already."))
    if keep.erased_at or gone.erased_at:
        raise Conflict(_("One of these leads was erased."))
    now = timezone.now()
    before: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    taken: dict[str, int] = {}
    for name, (_label, columns) in MERGE_FIELDS.items():
        mine = [getattr(keep, c) for c in columns]
        theirs = [getattr(gone, c) for c in columns]
        if mine == theirs:
            continue
        source_id = choices.get(name) or (gone.pk if _filled(theirs) > _filled(mine) else keep.pk)
        taken[name] = source_id
        if source_id == keep.pk:
            continue
        for column, value in zip(columns, theirs, strict=True):
            if getattr(keep, column) != value:
                before[column] = _plain(getattr(keep, column))
                changes[column] = value
    if before:
        before["name_key"] = keep.name_key
        before["address_key"] = keep.address_key
        before["street_name_key"] = keep.street_name_key
        before["house_name_key"] = keep.house_name_key
        before["search_text"] = keep.search_text
        leads_services.apply_changes(keep, changes, by=by, at=now)
    leads_services.apply_changes(gone, {"merged_into": keep}, by=by, at=now)
    pair = pair if pair is not None else _find_pair(keep.pk, gone.pk)
    if pair is not None:
        pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
        pair.state, pair.decided_by, pair.decided_at = PairState.MERGED, _user(by), now
        pair.save(update_fields=["state", "decided_by", "decided_at"])
    merge = Merge.objects.create(
        survivor=keep,
        merged=gone,
        survivor_before=before,
        field_choices=taken,
        pair=pair,
        merged_by=_user(by),
        merged_at=now,
    )
    changed = sorted(k for k in before if k not in DERIVED)
    leads_services.record_activity(
        keep,
        kind=ActivityKind.MERGED,
        by=by,
        message=_("Lead #%(id)d merged into this lead.") % {"id": gone.pk},
        data={"merge_id": merge.pk, "merged_id": gone.pk, "changed": changed},
        at=now,
    )
    leads_services.record_activity(
        gone,
        kind=ActivityKind.MERGED,
        by=by,
        message=_("Merged into lead #%(id)d.") % {"id": keep.pk},
        data={"merge_id": merge.pk, "survivor_id": keep.pk},
        at=now,
    )
    _audit_merge(keep.pk, by=by, merge_id=merge.pk, merged_id=gone.pk, fields=changed)
    leads_services.record_merge(keep, merged=[gone.pk], by=by, at=now, merge_id=merge.pk)
    _release_holds([gone, keep], by=by)
    return merge


def _audit_merge(survivor_id: int, *, by: Actor, **data: Any) -> None:
    if isinstance(by, SystemActor):
        return  # the intake's own merges are on both timelines
    record_audit(
        actor=by,
        action=AuditAction.LEAD_MERGED,
        target_type=AuditTarget.LEAD,
        target_id=survivor_id,
        data=data,
    )


@transaction.atomic
def undo_merge(merge: Merge, *, by: Actor) -> Merge:
    """Put both leads back as they were before `merge`: the survivor's overwritten values return
    and the merged lead stands on its own again; the pair is open again. Both timelines say so."""
    keep, gone = _lock_pair(by, merge.survivor_id, merge.merged_id)
    merge = Merge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise Conflict(_("This merge was undone already."))
    if keep.erased_at or gone.erased_at:
        # The values the undo would restore were erased with the person: nothing to go back to.
        raise Conflict(_("One of these leads was erased; the merge cannot be undone."))
    if gone.merged_into_id != keep.pk:
        raise Conflict(_("The merged lead no longer points at this survivor."))
    now = timezone.now()
    restored = dict(merge.survivor_before)
    values: dict[str, Any] = {}
    for column, value in restored.items():
        field: Any = Lead._meta.get_field(column)
        values[field.attname] = field.to_python(value) if value is not None else None
    if values:
        leads_services.apply_changes(keep, values, by=by, at=now)
    leads_services.apply_changes(gone, {"merged_into": None}, by=by, at=now)
    merge.undone_by, merge.undone_at = _user(by), now
    merge.save(update_fields=["undone_by", "undone_at"])
    if merge.pair_id is not None:
        DuplicatePair.objects.filter(pk=merge.pair_id).update(
            state=PairState.OPEN, decided_by=None, decided_at=None
        )
    restored_fields = sorted(k for k in restored if k not in DERIVED)
    leads_services.record_activity(
        keep,
        kind=ActivityKind.UNMERGED,
        by=by,
        message=_("Merge with lead #%(id)d undone.") % {"id": gone.pk},
        data={"merge_id": merge.pk, "merged_id": gone.pk, "restored": restored_fields},
        at=now,
    )
    leads_services.record_activity(
        gone,
        kind=ActivityKind.UNMERGED,
        by=by,
        message=_("No longer merged into lead #%(id)d.") % {"id": keep.pk},
        data={"merge_id": merge.pk, "survivor_id": keep.pk},
        at=now,
    )
    _audit_merge(keep.pk, by=by, merge_id=merge.pk, merged_id=gone.pk, undone=True)
    return merge


@transaction.atomic
def merge_pair(
    pair: DuplicatePair, *, survivor_id: int, field_choices: dict[str, int], by: Actor
) -> Merge:
    """Merge the two leads of `pair` into the one with `survivor_id`."""
    if survivor_id not in (pair.lead_id, pair.other_id):
        raise ValidationFailed(
            _("The survivor must be one of the pair's leads."),
            errors={
                "survivor_id": [
                    _("Choose lead #%(a)d or #%(b)d.") % {"a": pair.other_id, "b": pair.lead_id}
                ]
            },
        )
    locked = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    if locked.state != PairState.OPEN:
        raise Conflict(_("This pair was decided already."))
    merged_id = pair.other_id if survivor_id == pair.lead_id else pair.lead_id
    survivor = Lead(pk=survivor_id)
    merged = Lead(pk=merged_id)
    return merge_leads(survivor, merged, field_choices=field_choices, by=by, pair=locked)


@transaction.atomic
def dismiss_pair(pair: DuplicatePair, *, by: Actor) -> DuplicatePair:
    """Mark `pair` as two different people: it is not suggested again, and a lead held for
    duplicate review goes on."""
    first, second = _lock_pair(by, pair.lead_id, pair.other_id)
    locked = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    if locked.state != PairState.OPEN:
        raise Conflict(_("This pair was decided already."))
    now = timezone.now()
    locked.state, locked.decided_by, locked.decided_at = PairState.DISMISSED, _user(by), now
    locked.save(update_fields=["state", "decided_by", "decided_at"])
    for lead, other in ((first, second), (second, first)):
        leads_services.record_activity(
            lead,
            kind=ActivityKind.REVIEWED,
            by=by,
            message=_("Not the same person as lead #%(id)d.") % {"id": other.pk},
            data={"pair_id": locked.pk, "not_duplicate_of": other.pk},
            at=now,
        )
    _release_holds([first, second], by=by)
    return locked


def _user(by: Actor) -> Any:
    from leadloop.accounts.models import User

    return by if isinstance(by, User) else None


# --- Learning the match weights ------------------------------------------------------------------


@transaction.atomic
def refit_match_model(*, by: Actor, sample: int = 20_000) -> MatchWeights:
    """Fit the name-and-address match weights by EM on the database's candidate pairs, with the
    pairs people merged held as matches and those they dismissed as non-matches; the new weights
    are in force at once in this process (other processes read them within a minute).

    With too few pairs (model.MIN_PAIRS) the weights in force are stored again unchanged, so a
    small database keeps the defaults."""
    from leadloop.assessment.dedup.matching import learn
    from leadloop.assessment.dedup.matching import model as match_model

    start = match_model.current()
    unlabelled = learn.candidate_vectors(start, sample=sample)
    matches, non_matches = learn.decided_vectors(start)
    vectors = [*unlabelled, *matches, *non_matches]
    labels = [-1] * len(unlabelled) + [1] * len(matches) + [0] * len(non_matches)
    fit = match_model.fit(vectors, labels=labels, start=start)
    row = MatchWeights.objects.create(
        model=fit.model.as_json(),
        pairs=fit.pairs,
        labelled_matches=len(matches),
        labelled_non_matches=len(non_matches),
        iterations=fit.iterations,
        converged=fit.converged,
        fitted_at=timezone.now(),
        fitted_by=_user(by),
    )
    transaction.on_commit(match_model.invalidate)
    match_model.invalidate()
    return row
