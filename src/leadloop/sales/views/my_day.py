"""My day (reps, and managers for their own leads): the day's rows and a one-tap action on each.

Every action answers an HTMX request with its row drawn again (the form and its errors on a
refusal), and a plain POST with a redirect back to the list (or, on a refusal, the row on a
page of its own to correct). The actions call the sales and leads services; nothing is decided
here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import LeadloopError, NotFound
from leadloop.leads import selectors as lead_selectors
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus, LostReason
from leadloop.sales.forms.my_day import DAY_MOVES, CallForm, MoveForm, NextStepForm, SnoozeForm
from leadloop.sales.models import Task, TaskKind
from leadloop.sales.selectors import my_day as day
from leadloop.sales.services import clocks, contact, feeds, quotes, steps

ROW = "sales/_day_item.html"


def _viewer(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    require(user, Permission.FOLLOW_UP_LEADS)
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def _render(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


# The actions a row offers; each one's form comes with the row only when it is open (refused,
# or the next step after an action), else it is fetched when the rep opens it (`day_form`):
# drawing four forms for each of up to 200 rows made My day 1.4 MB and 1.3 s at 1,500 leads
# a rep (docs/benchmarks.md, "Sales follow-up").
ACTIONS = ("call", "step", "move", "snooze")


@dataclass
class Row:
    """A row as drawn: the item, the forms of its open actions (bound when an action on it was
    refused), the first-contact time left or over, and what the last action said."""

    item: day.DayItem
    call: CallForm | None
    step: NextStepForm | None
    move: MoveForm | None
    snooze: SnoozeForm | None
    can_move: bool
    has_snooze: bool
    contact_due: dt.datetime | None
    contact_left: str
    contact_late: bool
    task_late: str
    message: str = ""
    is_error: bool = False
    opened: str = ""

    @property
    def prompts_next_step(self) -> bool:
        """After an action that left the lead without a next step, its form is open."""
        return bool(self.message) and not self.is_error and self.item.has_no_next_step


def _next_morning(now: dt.datetime) -> dt.datetime:
    local = timezone.localtime(now)
    return dt.datetime.combine(
        local.date() + dt.timedelta(days=1), dt.time(9, 0), tzinfo=timezone.get_current_timezone()
    )


def _row(
    item: day.DayItem,
    *,
    viewer: User,
    now: dt.datetime,
    reasons: Callable[[], list[LostReason]],
    message: str = "",
    is_error: bool = False,
    form_for: str = "",
    **bound: Any,
) -> Row:
    key, task = item.key, item.task
    summary = clocks.summary(item.clock, now=now) if item.clock is not None else None
    left = summary["left"] if summary else None
    opened = next(iter(bound), "")
    moves = lead_selectors.list_allowed_moves(viewer, item.lead)
    has_snooze = task is not None and task.is_open
    wanted = set(bound) | (
        {"step"} if message and not is_error and item.has_no_next_step else set()
    )
    if form_for:
        wanted.add(form_for)

    def unbound(action: str) -> Any:
        if action == "call":
            return CallForm(
                prefix=f"{key}-call",
                initial={"task_done": task is not None and task.kind == TaskKind.CALL},
            )
        if action == "step":
            initial = {
                "kind": TaskKind.CALL,
                "due_at": timezone.localtime(_next_morning(now)).replace(tzinfo=None),
            }
            return NextStepForm(prefix=f"{key}-step", initial=initial)
        if action == "move":
            return MoveForm(moves=moves, reasons=reasons(), prefix=f"{key}-move")
        return SnoozeForm(prefix=f"{key}-snooze") if has_snooze else None

    forms = {action: bound.get(action) or unbound(action) for action in ACTIONS if action in wanted}
    return Row(
        item=item,
        call=forms.get("call"),
        step=forms.get("step"),
        move=forms.get("move"),
        snooze=forms.get("snooze"),
        can_move=any(m in moves for m in DAY_MOVES),
        has_snooze=has_snooze,
        contact_due=summary["due_at"] if summary else None,
        contact_left=day.span_text(left) if left is not None else "",
        contact_late=left is not None and left < dt.timedelta(0),
        task_late=day.span_text(now - task.due_at)
        if task is not None and task.is_open and task.due_at < now
        else "",
        message=message,
        is_error=is_error,
        opened=opened,
    )


def _reasons(viewer: User) -> list[LostReason]:
    return list(lead_selectors.list_lost_reasons(viewer))


# Rows a section draws at first, the rest of its list with "Show more": 200 rows were 490 KB and
# 300 ms of template work for a busy rep at a million leads (docs/benchmarks.md).
FIRST_ROWS = 15
SECTIONS = ("overdue", "today", "new", "no-next-step")
EVERY_SECTION = "all"


def _page_context(viewer: User, *, feed_url: str = "", expand: str = "") -> dict[str, Any]:
    """My day's sections, each drawing its first FIRST_ROWS rows; `expand` (a section's id, or
    EVERY_SECTION) draws all that were read."""
    now = timezone.now()
    found = day.get_my_day(viewer, now=now)
    cached: list[list[LostReason]] = []

    def reasons() -> list[LostReason]:
        if not cached:
            cached.append(_reasons(viewer))
        return cached[0]

    def rows(sid: str, part: day.DayList) -> list[Row]:
        shown = part.items if expand in (sid, EVERY_SECTION) else part.items[:FIRST_ROWS]
        return [_row(item, viewer=viewer, now=now, reasons=reasons) for item in shown]

    sections = [
        ("overdue", _("Overdue"), found.overdue, _("Nothing overdue.")),
        ("today", _("Due today"), found.today, _("Nothing else due today.")),
        ("new", _("New leads"), found.new, _("No new leads waiting for a first call.")),
        (
            "no-next-step",
            _("No next step"),
            found.no_next_step,
            _("Every lead you work has a next step."),
        ),
    ]
    return {
        "day": found,
        "sections": [
            _section(sid, title, part, rows(sid, part), empty)
            for sid, title, part, empty in sections
        ],
        "feed": feeds.get_feed(viewer),
        "feed_url": feed_url,
    }


def _section(
    sid: str, title: str, part: day.DayList, rows: list[Row], empty: str
) -> dict[str, Any]:
    hidden = len(part.items) - len(rows)
    return {"id": sid, "title": title, "part": part, "rows": rows, "empty": empty, "hidden": hidden}


@login_required
@require_GET
def my_day(request: HttpRequest) -> HttpResponse:
    """The page; `?section=<id>` draws that section's whole list (all of them with `all`), and
    to HTMX answers with that section alone ("Show more")."""
    viewer = _viewer(request)
    expand = request.GET.get("section", "")
    expand = expand if expand in (*SECTIONS, EVERY_SECTION) else ""
    context = _page_context(viewer, expand=expand)
    if expand in SECTIONS and _is_htmx(request):
        section = next(s for s in context["sections"] if s["id"] == expand)
        return _render(request, "sales/_day_section.html", {**context, "section": section})
    return _render(request, "sales/my_day.html", context)


def _row_task(
    request: HttpRequest, viewer: User, lead: Lead, data: QueryDict | None = None
) -> Task | None:
    """The task of the row an action on a lead came from (a task row), if any."""
    raw = (request.POST if data is None else data).get("task", "")
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise NotFound(_("No such task."))
    task = day.get_task_for(viewer, int(raw))
    if task.lead_id != lead.pk:
        raise NotFound(_("No such task."))
    return task


def _key(lead: Lead, task: Task | None) -> str:
    return day.DayItem(lead, task).key


def _done(
    request: HttpRequest, viewer: User, *, lead_id: int, task_id: int | None, message: str
) -> HttpResponse:
    """After an action: the row again (HTMX), or back to the list with the message."""
    if not _is_htmx(request):
        messages.success(request, message)
        key = f"task-{task_id}" if task_id else f"lead-{lead_id}"
        # Every row drawn, so the anchor finds the row wherever it is in its list.
        return redirect(f"{reverse('sales:my-day')}?section={EVERY_SECTION}#{key}")
    try:
        lead = lead_selectors.get_lead_for(viewer, lead_id)
        task = day.get_task_for(viewer, task_id) if task_id else None
    except NotFound:
        # The lead went to someone else (a breach routed it on): the row leaves the list.
        return HttpResponse("")
    item = day.get_day_item(viewer, lead=lead, task=task)
    row = _row(
        item, viewer=viewer, now=timezone.now(), reasons=lambda: _reasons(viewer), message=message
    )
    return _render(request, ROW, {"row": row})


def _refused(
    request: HttpRequest,
    viewer: User,
    *,
    lead: Lead,
    task: Task | None,
    status: int,
    message: str = "",
    **bound: Any,
) -> HttpResponse:
    """A refused action: the row with the form and its errors, in place or on its own page."""
    item = day.get_day_item(viewer, lead=lead, task=task)
    row = _row(
        item,
        viewer=viewer,
        now=timezone.now(),
        reasons=lambda: _reasons(viewer),
        message=message,
        is_error=bool(message),
        **bound,
    )
    template = ROW if _is_htmx(request) else "sales/my_day_row.html"
    return _render(request, template, {"row": row}, status=status)


@login_required
@require_GET
def day_form(request: HttpRequest, lead_id: int, action: str) -> HttpResponse:
    """One action's form for a row, fetched when the rep opens it (HTMX), or the row on its own
    page with that form open (without JavaScript)."""
    viewer = _viewer(request)
    if action not in ACTIONS:
        raise NotFound(_("No such action."))
    lead = lead_selectors.get_lead_for(viewer, lead_id)
    task = _row_task(request, viewer, lead, request.GET)
    item = day.get_day_item(viewer, lead=lead, task=task)
    row = _row(
        item, viewer=viewer, now=timezone.now(), reasons=lambda: _reasons(viewer), form_for=action
    )
    if _is_htmx(request):
        return _render(request, "sales/_day_form.html", {"row": row, "action": action})
    row.opened = action
    return _render(request, "sales/my_day_row.html", {"row": row})


@login_required
@require_POST
def day_call(request: HttpRequest, lead_id: int) -> HttpResponse:
    viewer = _viewer(request)
    lead = lead_selectors.get_lead_for(viewer, lead_id)
    task = _row_task(request, viewer, lead)
    form = CallForm(request.POST, prefix=f"{_key(lead, task)}-call")
    if not form.is_valid():
        return _refused(request, viewer, lead=lead, task=task, status=422, call=form)
    data = form.cleaned_data
    try:
        with transaction.atomic():
            contact.log_call(
                lead,
                by=viewer,
                outcome=data["outcome"],
                note=data["note"],
                callback_at=data["callback_at"],
            )
            if task is not None and data["task_done"] and task.is_open:
                steps.complete_task(task, by=viewer, outcome=data["outcome"])
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _refused(request, viewer, lead=lead, task=task, status=exc.status, call=form)
    outcome = contact.CallOutcome(data["outcome"]).label
    return _done(
        request,
        viewer,
        lead_id=lead.pk,
        task_id=task.pk if task else None,
        message=_("Call logged: %(outcome)s.") % {"outcome": outcome},
    )


@login_required
@require_POST
def day_next_step(request: HttpRequest, lead_id: int) -> HttpResponse:
    viewer = _viewer(request)
    lead = lead_selectors.get_lead_for(viewer, lead_id)
    task = _row_task(request, viewer, lead)
    form = NextStepForm(request.POST, prefix=f"{_key(lead, task)}-step")
    if not form.is_valid():
        return _refused(request, viewer, lead=lead, task=task, status=422, step=form)
    data = form.cleaned_data
    try:
        added = steps.add_task(
            lead, by=viewer, kind=data["kind"], due_at=data["due_at"], title=data["title"]
        )
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _refused(request, viewer, lead=lead, task=task, status=exc.status, step=form)
    due = timezone.localtime(added.due_at)
    return _done(
        request,
        viewer,
        lead_id=lead.pk,
        task_id=task.pk if task else None,
        message=_("Next step set: %(kind)s, %(due)s.")
        % {"kind": TaskKind(added.kind).label, "due": due.strftime("%Y-%m-%d %H:%M")},
    )


@login_required
@require_POST
def day_move(request: HttpRequest, lead_id: int) -> HttpResponse:
    viewer = _viewer(request)
    lead = lead_selectors.get_lead_for(viewer, lead_id)
    task = _row_task(request, viewer, lead)
    form = MoveForm(
        request.POST,
        moves=lead_selectors.list_allowed_moves(viewer, lead),
        reasons=_reasons(viewer),
        prefix=f"{_key(lead, task)}-move",
    )
    if not form.is_valid():
        return _refused(request, viewer, lead=lead, task=task, status=422, move=form)
    to = form.cleaned_data["to"]
    try:
        if to == LeadStatus.LOST:
            quotes.lose(
                lead, by=viewer, lost_reason=form.reason, competitor=form.cleaned_data["competitor"]
            )
        elif to == LeadStatus.WON:
            quotes.win(lead, by=viewer)
        else:
            lead_services.transition(lead, to=to, by=viewer)
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _refused(request, viewer, lead=lead, task=task, status=exc.status, move=form)
    return _done(
        request,
        viewer,
        lead_id=lead.pk,
        task_id=task.pk if task else None,
        message=_("Status changed to %(status)s.") % {"status": LeadStatus(to).label},
    )


@login_required
@require_POST
def day_task_done(request: HttpRequest, task_id: int) -> HttpResponse:
    viewer = _viewer(request)
    task = day.get_task_for(viewer, task_id)
    try:
        steps.complete_task(task, by=viewer)
    except LeadloopError as exc:
        return _refused(
            request, viewer, lead=task.lead, task=task, status=exc.status, message=exc.detail
        )
    return _done(request, viewer, lead_id=task.lead_id, task_id=task.pk, message=_("Done."))


@login_required
@require_POST
def day_task_snooze(request: HttpRequest, task_id: int) -> HttpResponse:
    viewer = _viewer(request)
    task = day.get_task_for(viewer, task_id)
    form = SnoozeForm(request.POST, prefix=f"task-{task.pk}-snooze")
    if not form.is_valid():
        return _refused(request, viewer, lead=task.lead, task=task, status=422, snooze=form)
    try:
        moved = steps.move_task(
            task,
            by=viewer,
            due_at=form.target(timezone.now()),
            reason=form.cleaned_data["reason"],
            snooze=True,
        )
    except LeadloopError as exc:
        form.apply_service_error(exc)
        return _refused(request, viewer, lead=task.lead, task=task, status=exc.status, snooze=form)
    due = timezone.localtime(moved.due_at)
    return _done(
        request,
        viewer,
        lead_id=task.lead_id,
        task_id=task.pk,
        message=_("Snoozed until %(due)s.") % {"due": due.strftime("%Y-%m-%d %H:%M")},
    )


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
def calendar_feed_manage(request: HttpRequest) -> HttpResponse:
    """Make (or renew) the calendar address, shown this once, or revoke it."""
    viewer = _viewer(request)
    feed_url = ""
    if request.POST.get("action") == "revoke":
        feeds.revoke_feed(viewer)
        message = _("The calendar address is revoked: calendar apps get nothing from it now.")
    else:
        feed_url = feeds.feed_url(feeds.issue_feed(viewer))
        message = ""
    if _is_htmx(request):
        context = {"feed": feeds.get_feed(viewer), "feed_url": feed_url, "feed_message": message}
        return _no_store(_render(request, "sales/_calendar_feed.html", context))
    if feed_url:
        # The address is on this response only: never in a redirect, a message or a log.
        return _no_store(
            _render(request, "sales/my_day.html", _page_context(viewer, feed_url=feed_url))
        )
    messages.success(request, message)
    return redirect(f"{reverse('sales:my-day')}#calendar-feed")


@require_safe
def calendar_feed(request: HttpRequest, feed_token: str) -> HttpResponse:
    """The iCalendar feed: no login, the token in the address is the credential."""
    user = feeds.feed_user(feed_token)
    if user is None:
        raise Http404
    response = HttpResponse(
        feeds.render_calendar(user), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = 'inline; filename="leadloop.ics"'
    response["X-Robots-Tag"] = "noindex"
    return _no_store(response)
