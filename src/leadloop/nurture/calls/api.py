"""/api/v1/nurture/calls: call lists and their entries, filling a list from a lead filter, the
desk (take the next lead, log the outcome), the do-not-call list and the agents' figures.
Lists, entries and the do-not-call list are for marketing and admins; the desk and the figures
for agents too (an agent sees its own lists and figures)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor, actor_from_request
from leadloop.core.schemas import StrictIn as In
from leadloop.leads.selectors import get_lead_for
from leadloop.nurture.calls import selectors
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.models import CallAttempt, CallEntry, CallList, DoNotCall

router = Router()


def _actor(request: HttpRequest) -> Actor:
    return actor_from_request(request)


class CallListOut(Schema):
    id: int
    name: str
    description: str
    script_en: str
    script_nl: str
    time_zone: str
    call_days: list[int] = Field(..., description="0 is Monday, 6 is Sunday")
    opens_at: dt.time
    closes_at: dt.time
    holiday_country: str
    days_off: list[str]
    retry_delay_minutes: int
    max_attempts: int
    fill_query: str
    is_active: bool
    members: list[int] = Field(..., description="User ids of the agents who work the list")
    updated_at: dt.datetime


class CallListIn(In):
    name: str = Field(..., max_length=100)
    description: str = Field("", max_length=2000)
    script_en: str = Field("", max_length=20000, description="Markdown with {merge_fields}")
    script_nl: str = Field("", max_length=20000)
    time_zone: str = Field("Europe/Amsterdam", max_length=64)
    call_days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4])
    opens_at: dt.time = dt.time(9, 0)
    closes_at: dt.time = dt.time(18, 0)
    holiday_country: str = Field("NL", max_length=2, description="Empty for no public holidays")
    days_off: list[dt.date] = Field(default_factory=list)
    retry_delay_minutes: int = 240
    max_attempts: int = 3
    fill_query: str = Field("", max_length=2000, description="A lead-list query string")
    is_active: bool = True
    members: list[int] = Field(default_factory=list)


class CallListPatch(In):
    name: str | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=2000)
    script_en: str | None = Field(None, max_length=20000)
    script_nl: str | None = Field(None, max_length=20000)
    time_zone: str | None = Field(None, max_length=64)
    call_days: list[int] | None = None
    opens_at: dt.time | None = None
    closes_at: dt.time | None = None
    holiday_country: str | None = Field(None, max_length=2)
    days_off: list[dt.date] | None = None
    retry_delay_minutes: int | None = None
    max_attempts: int | None = None
    fill_query: str | None = Field(None, max_length=2000)
    is_active: bool | None = None
    members: list[int] | None = None


class EntryIn(In):
    lead_id: int
    due_at: dt.datetime | None = Field(None, description="Now when not given")


class EntryOut(Schema):
    id: int
    call_list_id: int
    lead_id: int
    state: str = Field(..., description="waiting, done or cancelled")
    due_at: dt.datetime
    attempts: int
    assigned_to_id: int | None = Field(None, description="The agent a call-back belongs to")
    claimed_by_id: int | None
    claimed_at: dt.datetime | None
    outcome: str = Field(..., description="The final outcome of a closed entry")
    closed_at: dt.datetime | None
    origin: str
    created_at: dt.datetime


class DeskEntryOut(EntryOut):
    call_list: str
    lead_name: str
    phone: str = Field(..., description="E.164")
    script_html: str = Field(..., description="The list's script for this lead, as HTML")


class FillIn(In):
    query: str = Field("", max_length=2000, description="The list's own filter when empty")


class FillOut(Schema):
    matched: int
    added: int
    already: int
    no_phone: int
    do_not_call: int


class OutcomeIn(In):
    outcome: str = Field(
        ...,
        description="qualified, not_interested, no_answer, voicemail, wrong_number, callback or "
        "do_not_call",
    )
    duration: int | None = Field(None, description="Seconds")
    notes: str = Field("", max_length=5000)
    callback_at: dt.datetime | None = Field(None, description="Required for a call-back")
    bant: dict[str, str] | None = Field(
        None, description="budget, authority, need, timeframe: met, not_met or empty"
    )


class AttemptOut(Schema):
    id: int
    entry_id: int
    agent_id: int | None
    outcome: str
    duration_seconds: int | None
    notes: str
    callback_at: dt.datetime | None
    at: dt.datetime
    entry: EntryOut


class DncIn(In):
    phone: str = Field(..., max_length=40)
    reason: str = Field("", max_length=300)


class DncOut(Schema):
    id: int
    phone_e164: str
    reason: str
    created_at: dt.datetime


class StatsOut(Schema):
    agent_id: int
    agent: str
    calls: int
    reached: int
    qualified: int
    hours: int
    talk_seconds: int
    calls_per_hour: float
    reach_rate: float = Field(..., description="Reached calls of all calls, 0 to 1")
    qualified_rate: float = Field(..., description="Qualifying calls of all calls, 0 to 1")


def _list(item: CallList) -> dict[str, Any]:
    data = {name: getattr(item, name) for name in CallListOut.model_fields if name != "members"}
    data["members"] = sorted(item.members.values_list("pk", flat=True))
    return data


def _entry(item: CallEntry) -> dict[str, Any]:
    return {name: getattr(item, name) for name in EntryOut.model_fields}


def _desk_entry(item: CallEntry, actor: Actor) -> dict[str, Any]:
    return {
        **_entry(item),
        "call_list": item.call_list.name,
        "lead_name": item.lead.full_name,
        "phone": item.lead.phone_e164,
        "script_html": str(calls.render_script(item.call_list, item.lead, agent=actor)),
    }


def _attempt(item: CallAttempt) -> dict[str, Any]:
    data = {name: getattr(item, name) for name in AttemptOut.model_fields if name != "entry"}
    data["entry"] = _entry(item.entry)
    return data


def _dnc(item: DoNotCall) -> dict[str, Any]:
    return {name: getattr(item, name) for name in DncOut.model_fields}


def _values(payload: In, *, exclude_unset: bool = False) -> dict[str, Any]:
    values = payload.dict(exclude_unset=exclude_unset)
    if values.get("days_off") is not None:
        values["days_off"] = [day.isoformat() for day in values["days_off"]]
    return values


@router.get("/lists", response=list[CallListOut], url_name="nurture-call-lists")
def list_call_lists(request: HttpRequest) -> list[dict[str, Any]]:
    """Every call list (marketing and admins), or an agent's own."""
    return [_list(item) for item in selectors.list_call_lists_for(_actor(request))]


@router.post("/lists", response={201: CallListOut}, url_name="nurture-call-list-add")
def create_call_list(request: HttpRequest, payload: CallListIn) -> Status:
    """Add a call list; unknown merge fields in a script and impossible hours answer 422."""
    return Status(201, _list(calls.create_call_list(by=_actor(request), **_values(payload))))


@router.get("/lists/{list_id}", response=CallListOut, url_name="nurture-call-list")
def get_call_list(request: HttpRequest, list_id: int) -> dict[str, Any]:
    return _list(selectors.get_call_list_for(_actor(request), list_id))


@router.patch("/lists/{list_id}", response=CallListOut, url_name="nurture-call-list-update")
def update_call_list(request: HttpRequest, list_id: int, payload: CallListPatch) -> dict[str, Any]:
    actor = _actor(request)
    call_list = selectors.get_call_list_for(actor, list_id)
    changes = {k: v for k, v in _values(payload, exclude_unset=True).items() if v is not None}
    return _list(calls.update_call_list(call_list, by=actor, **changes))


@router.get("/lists/{list_id}/entries", response=list[EntryOut], url_name="nurture-call-entries")
def list_call_entries(request: HttpRequest, list_id: int, state: str = "") -> list[dict[str, Any]]:
    """A list's entries (at most 500): waiting ones by due time, others newest first."""
    actor = _actor(request)
    call_list = selectors.get_call_list_for(actor, list_id)
    return [_entry(e) for e in selectors.list_entries_for(actor, call_list, state=state)[:500]]


@router.post(
    "/lists/{list_id}/entries", response={201: EntryOut}, url_name="nurture-call-entry-add"
)
def add_call_entry(request: HttpRequest, list_id: int, payload: EntryIn) -> Status:
    """Put a lead on the list (its waiting entry when it is there already); 409 when the lead
    has no phone number or its number is on the do-not-call list."""
    actor = _actor(request)
    call_list = selectors.get_call_list_for(actor, list_id)
    lead = get_lead_for(actor, payload.lead_id)
    entry = calls.add_to_call_list(lead, call_list, by=actor, due_at=payload.due_at, origin="api")
    return Status(201, _entry(entry))


@router.post("/lists/{list_id}/fill", response=FillOut, url_name="nurture-call-list-fill")
def fill_call_list(request: HttpRequest, list_id: int, payload: FillIn) -> dict[str, Any]:
    """Put the leads of a lead-list filter on the list (at most 5,000 a time)."""
    actor = _actor(request)
    call_list = selectors.get_call_list_for(actor, list_id)
    return calls.fill_from_filter(call_list, by=actor, query=payload.query).__dict__


@router.post(
    "/entries/{call_entry_id}/cancel", response=EntryOut, url_name="nurture-call-entry-cancel"
)
def cancel_call_entry(request: HttpRequest, call_entry_id: int) -> dict[str, Any]:
    actor = _actor(request)
    return _entry(calls.cancel_entry(selectors.get_entry_for(actor, call_entry_id), by=actor))


@router.post("/desk/next", response={200: DeskEntryOut, 204: None}, url_name="nurture-call-next")
def take_next_call(request: HttpRequest) -> Status | dict[str, Any]:
    """Claim the next lead to call on your lists (204 when none is due within calling hours)."""
    actor = _actor(request)
    entry = calls.next_for(actor)
    if entry is None:
        return Status(204, None)
    return _desk_entry(entry, actor)


@router.post(
    "/entries/{call_entry_id}/outcome",
    response={201: AttemptOut},
    url_name="nurture-call-outcome",
)
def log_call_outcome(request: HttpRequest, call_entry_id: int, payload: OutcomeIn) -> Status:
    """Log how the call went; the entry moves on (retry, call-back, closed)."""
    actor = _actor(request)
    entry = selectors.get_entry_for(actor, call_entry_id)
    attempt = calls.log_outcome(entry, by=actor, **payload.dict())
    attempt.entry.refresh_from_db()
    return Status(201, _attempt(attempt))


@router.post("/entries/{call_entry_id}/release", response=EntryOut, url_name="nurture-call-release")
def release_call(request: HttpRequest, call_entry_id: int) -> dict[str, Any]:
    """Put a claimed lead back without calling."""
    actor = _actor(request)
    return _entry(calls.release(selectors.get_entry_for(actor, call_entry_id), by=actor))


@router.get("/dnc", response=list[DncOut], url_name="nurture-call-dnc")
def list_do_not_call(request: HttpRequest, q: str = "") -> list[dict[str, Any]]:
    """The do-not-call list, newest first (at most 500), optionally the numbers with `q`."""
    return [_dnc(e) for e in selectors.list_dnc_for(_actor(request), search=q[:40])[:500]]


@router.post("/dnc", response={201: DncOut}, url_name="nurture-call-dnc-add")
def add_do_not_call(request: HttpRequest, payload: DncIn) -> Status:
    return Status(
        201, _dnc(calls.add_dnc(payload.phone, by=_actor(request), reason=payload.reason))
    )


@router.delete("/dnc/{dnc_id}", response={204: None}, url_name="nurture-call-dnc-remove")
def remove_do_not_call(request: HttpRequest, dnc_id: int) -> Status:
    actor = _actor(request)
    calls.remove_dnc(selectors.get_dnc_for(actor, dnc_id), by=actor)
    return Status(204, None)


@router.get("/stats", response=list[StatsOut], url_name="nurture-call-stats")
def call_stats(request: HttpRequest, days: int = 7) -> list[dict[str, Any]]:
    """Per agent over the last `days` (1 to 366): calls, calls per hour, reach and qualified
    rates. An agent gets its own row."""
    days = max(1, min(days, 366))
    end = timezone.now()
    rows = selectors.agent_stats(_actor(request), (end - dt.timedelta(days=days), end))
    return [
        {**r.__dict__, "calls_per_hour": r.calls_per_hour, "reach_rate": r.reach_rate,
         "qualified_rate": r.qualified_rate}
        for r in rows
    ]  # fmt: skip
