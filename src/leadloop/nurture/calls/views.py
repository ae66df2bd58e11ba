"""Telemarketing pages: the agent's desk (HTMX: take the next lead, log the outcome, without
leaving the page), call lists and their entries, the do-not-call list (marketing and admins),
and the agents' figures."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.models import User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import LeadloopError
from leadloop.leads.selectors import list_timeline
from leadloop.nurture.calls import selectors
from leadloop.nurture.calls import services as calls
from leadloop.nurture.calls.forms import (
    CallListForm,
    DncForm,
    DncImportForm,
    FillForm,
    OutcomeForm,
)
from leadloop.nurture.calls.models import CallEntry, CallList, EntryState
from leadloop.nurture.calls.services import scripts
from leadloop.nurture.calls.services.lists import FIELDS

PLACEHOLDERS = [f"{{{name}}}" for name in scripts.SCRIPT_FIELDS]
STATS_DAYS = (1, 7, 30)


def _user(request: HttpRequest, permission: Permission) -> User:
    user: User = request.user  # type: ignore[assignment]
    require(user, permission)
    return user


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


# --- The desk ------------------------------------------------------------------------------------


def _card(user: User, entry: CallEntry | None, form: OutcomeForm | None = None) -> dict[str, Any]:
    """What the desk shows of the lead on it: script, history, BANT questions, outcome form."""
    now = timezone.now()
    context: dict[str, Any] = {"entry": entry, "due": selectors.count_due_for(user, now=now)}
    if entry is None:
        return context
    lead = entry.lead
    initial = {
        f"bant_{n}": getattr(lead, f"bant_{n}")
        for n in ("budget", "authority", "need", "timeframe")
    }
    context.update(
        {
            "lead": lead,
            "script": scripts.render_script(entry.call_list, lead, agent=user),
            "script_language": scripts.script_language(entry.call_list, lead),
            "timeline": list_timeline(user, lead.pk, limit=10),
            "calls": selectors.list_lead_calls(lead.pk, limit=10),
            "form": form or OutcomeForm(initial=initial),
            "outcomes": OutcomeForm.base_fields["outcome"].choices,  # type: ignore[attr-defined]
        }
    )
    return context


def _desk_answer(
    request: HttpRequest, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    template = "nurture/calls/_desk_card.html" if _is_htmx(request) else "nurture/calls/desk.html"
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_GET
def desk(request: HttpRequest) -> HttpResponse:
    """The agent's desk; the lead it has taken and not logged yet, if any."""
    user = _user(request, Permission.WORK_CALL_LISTS)
    context = _card(user, selectors.held_by(user, now=timezone.now()))
    context["lists"] = list(selectors.list_call_lists_for(user).filter(members=user))
    return render(request, "nurture/calls/desk.html", context)


@login_required
@require_POST
def desk_next(request: HttpRequest) -> HttpResponse:
    """Take the next lead (HTMX: the card; without JavaScript: back to the desk)."""
    user = _user(request, Permission.WORK_CALL_LISTS)
    entry = calls.next_for(user)
    if not _is_htmx(request):
        if entry is None:
            messages.info(request, _("Nobody to call right now."))
        return redirect("nurture:call-desk")
    context = _card(user, entry)
    context["nobody"] = entry is None
    return _desk_answer(request, context)


@login_required
@require_POST
def desk_outcome(request: HttpRequest, call_entry_id: int) -> HttpResponse:
    user = _user(request, Permission.WORK_CALL_LISTS)
    entry = selectors.get_entry_for(user, call_entry_id)
    form = OutcomeForm(request.POST)
    if form.is_valid():
        try:
            calls.log_outcome(entry, by=user, **form.service_args())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            if not _is_htmx(request):
                messages.success(request, _("Call logged."))
                return redirect("nurture:call-desk")
            context = _card(user, None)
            context["logged"] = entry
            return _desk_answer(request, context)
    entry.refresh_from_db()
    return _desk_answer(request, _card(user, entry, form), status=422)


@login_required
@require_POST
def desk_release(request: HttpRequest, call_entry_id: int) -> HttpResponse:
    """Put the lead back without calling (it stays due for the next agent)."""
    user = _user(request, Permission.WORK_CALL_LISTS)
    calls.release(selectors.get_entry_for(user, call_entry_id), by=user)
    if not _is_htmx(request):
        return redirect("nurture:call-desk")
    return _desk_answer(request, _card(user, None))


# --- Call lists (marketing and admins) -----------------------------------------------------------


def _agents(user: User) -> list[tuple[int, str]]:
    return [
        (u.pk, f"{u.display_name} ({u.get_role_display()})") for u in selectors.list_agents(user)
    ]


@login_required
@require_GET
def call_lists(request: HttpRequest) -> HttpResponse:
    user = _user(request, Permission.MANAGE_CALL_LISTS)
    items = [(item, selectors.count_entries(item)) for item in selectors.list_call_lists_for(user)]
    return render(request, "nurture/calls/list_index.html", {"rows": items})


def _list_form_page(
    request: HttpRequest, form: CallListForm, call_list: CallList | None, *, status: int = 200
) -> HttpResponse:
    context = {"form": form, "call_list": call_list, "placeholders": PLACEHOLDERS}
    return render(request, "nurture/calls/list_form.html", context, status=status)


@login_required
def call_list_new(request: HttpRequest) -> HttpResponse:
    user = _user(request, Permission.MANAGE_CALL_LISTS)
    if request.method != "POST":
        initial = {
            "call_days": [0, 1, 2, 3, 4],
            "opens_at": "09:00",
            "closes_at": "18:00",
            "time_zone": user.time_zone or "Europe/Amsterdam",
            "holiday_country": "NL",
            "retry_delay_minutes": 240,
            "max_attempts": 3,
            "is_active": True,
        }
        return _list_form_page(request, CallListForm(initial=initial, agents=_agents(user)), None)
    form = CallListForm(request.POST, agents=_agents(user))
    if form.is_valid():
        try:
            created = calls.create_call_list(by=user, **form.values())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Call list added."))
            return redirect("nurture:call-list-entries", list_id=created.pk)
    return _list_form_page(request, form, None, status=422)


@login_required
def call_list_edit(request: HttpRequest, list_id: int) -> HttpResponse:
    user = _user(request, Permission.MANAGE_CALL_LISTS)
    call_list = selectors.get_call_list_for(user, list_id)
    if request.method != "POST":
        initial: dict[str, Any] = {name: getattr(call_list, name) for name in FIELDS}
        initial["days_off"] = "\n".join(call_list.days_off or [])
        initial["members"] = list(call_list.members.values_list("pk", flat=True))
        return _list_form_page(
            request, CallListForm(initial=initial, agents=_agents(user)), call_list
        )
    form = CallListForm(request.POST, agents=_agents(user))
    if form.is_valid():
        try:
            calls.update_call_list(call_list, by=user, **form.values())
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Call list saved."))
            return redirect("nurture:call-list-entries", list_id=call_list.pk)
    return _list_form_page(request, form, call_list, status=422)


@login_required
def call_list_entries(request: HttpRequest, list_id: int) -> HttpResponse:
    """A list's leads by state, and the form that fills it from a lead filter."""
    user = _user(request, Permission.MANAGE_CALL_LISTS)
    call_list = selectors.get_call_list_for(user, list_id)
    fill = FillForm(initial={"query": call_list.fill_query})
    status = 200
    if request.method == "POST":
        fill = FillForm(request.POST)
        if fill.is_valid():
            try:
                result = calls.fill_from_filter(
                    call_list, by=user, query=fill.cleaned_data["query"]
                )
            except LeadloopError as exc:
                fill.apply_service_error(exc)
            else:
                messages.success(
                    request,
                    _(
                        "%(added)d leads added; skipped: %(already)d already on the list, "
                        "%(no_phone)d without a phone number, %(dnc)d on the do-not-call list."
                    )
                    % {
                        "added": result.added,
                        "already": result.already,
                        "no_phone": result.no_phone,
                        "dnc": result.do_not_call,
                    },
                )
                return redirect("nurture:call-list-entries", list_id=call_list.pk)
        status = 422
    state = request.GET.get("state", EntryState.WAITING)
    if state not in EntryState.values:
        state = EntryState.WAITING
    context = {
        "call_list": call_list,
        "fill": fill,
        "state": state,
        "states": EntryState.choices,
        "counts": selectors.count_entries(call_list),
        "entries": list(selectors.list_entries_for(user, call_list, state=state)[:200]),
        "members": list(call_list.members.order_by("username")),
    }
    return render(request, "nurture/calls/list_entries.html", context, status=status)


@login_required
@require_POST
def call_entry_cancel(request: HttpRequest, call_entry_id: int) -> HttpResponse:
    user = _user(request, Permission.MANAGE_CALL_LISTS)
    entry = selectors.get_entry_for(user, call_entry_id)
    try:
        calls.cancel_entry(entry, by=user)
    except LeadloopError as exc:
        messages.error(request, exc.detail)
    else:
        messages.success(request, _("Lead taken off the list."))
    return redirect("nurture:call-list-entries", list_id=entry.call_list_id)


# --- Do not call ---------------------------------------------------------------------------------


@login_required
def dnc_list(request: HttpRequest) -> HttpResponse:
    user = _user(request, Permission.MANAGE_CALL_LISTS)
    form, upload = DncForm(), DncImportForm()
    status = 200
    if request.method == "POST" and "file" in request.FILES:
        upload = DncImportForm(request.POST, request.FILES)
        if upload.is_valid():
            data = upload.cleaned_data["file"].read(5_000_000)
            result = calls.import_dnc(data, by=user, reason=upload.cleaned_data["reason"])
            messages.success(
                request,
                _("%(added)d numbers added, %(already)d were on the list, %(invalid)d not valid.")
                % {
                    "added": result.added,
                    "already": result.already,
                    "invalid": len(result.invalid),
                },
            )
            return redirect("nurture:call-dnc")
        status = 422
    elif request.method == "POST":
        form = DncForm(request.POST)
        if form.is_valid():
            try:
                calls.add_dnc(
                    form.cleaned_data["phone"], by=user, reason=form.cleaned_data["reason"]
                )
            except LeadloopError as exc:
                form.apply_service_error(exc)
            else:
                messages.success(request, _("Number added to the do-not-call list."))
                return redirect("nurture:call-dnc")
        status = 422
    search = request.GET.get("q", "")[:40]
    context = {
        "form": form,
        "upload": upload,
        "q": search,
        "entries": list(selectors.list_dnc_for(user, search=search)[:200]),
    }
    return render(request, "nurture/calls/dnc_list.html", context, status=status)


@login_required
@require_POST
def dnc_remove(request: HttpRequest, dnc_id: int) -> HttpResponse:
    user = _user(request, Permission.MANAGE_CALL_LISTS)
    calls.remove_dnc(selectors.get_dnc_for(user, dnc_id), by=user)
    messages.success(request, _("Number removed from the do-not-call list."))
    return redirect("nurture:call-dnc")


# --- Figures -------------------------------------------------------------------------------------


@login_required
@require_GET
def stats(request: HttpRequest) -> HttpResponse:
    """Calls per hour, reach rate and qualified rate per agent, over the last 1, 7 or 30 days."""
    user = _user(request, Permission.WORK_CALL_LISTS)
    try:
        days = int(request.GET.get("days", "7"))
    except ValueError:
        days = 7
    days = days if days in STATS_DAYS else 7
    end = timezone.now()
    rows = selectors.agent_stats(user, (end - dt.timedelta(days=days), end))
    context = {
        "rows": rows,
        "days": days,
        "choices": STATS_DAYS,
        "manager": selectors.can_manage_calls(user),
    }
    return render(request, "nurture/calls/stats.html", context)
