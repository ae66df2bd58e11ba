"""The follow-up panel on the lead page: the first-contact clock with its history, the open next
steps, logging a call, a meeting or an e-mail, quotes, won and lost.

The lead page includes it with `{% follow_up_panel lead %}`; the panel's own views render the
same tag after an action (with the form that failed, or a notice), so there is one place that
decides what the panel shows to whom: the sales team works it, other staff read it, and a
partner user gets only the call and meeting forms.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django import template
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.models import User
from leadloop.accounts.selectors import get_defaults
from leadloop.leads.models import Lead, LeadStatus
from leadloop.leads.selectors import list_allowed_moves
from leadloop.notifications.services import mail_configured
from leadloop.sales.forms.lead import (
    CallForm,
    CancelTaskForm,
    EmailForm,
    LostForm,
    MeetingForm,
    QuoteForm,
    RescheduleForm,
    SalesForm,
    SnoozeForm,
    TaskForm,
    WonForm,
)
from leadloop.sales.models import ClockState, Quote, Task
from leadloop.sales.selectors import lead as selectors
from leadloop.sales.selectors.templates import may_manage_templates
from leadloop.sales.services import clocks, contact

register = template.Library()


@dataclass(frozen=True)
class TaskRow:
    task: Task
    snooze: SalesForm
    reschedule: SalesForm
    cancel: SalesForm
    is_late: bool


@dataclass(frozen=True)
class QuoteRow:
    quote: Quote
    form: SalesForm


def language_of(user: User) -> str:
    return user.language or get_defaults().language


def panel_context(
    user: User,
    lead: Lead,
    *,
    bound: dict[str, SalesForm] | None = None,
    notice: str = "",
    error: str = "",
    csrf_token: Any = None,
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """What the panel shows `user` (who may see `lead`); `bound` holds a form that failed."""
    bound = bound or {}
    now = now or timezone.now()
    context: dict[str, Any] = {
        "show": selectors.may_read(user) or selectors.may_log_contact(user),
        "lead": lead,
        "csrf_token": csrf_token,
        "notice": notice,
        "error": error,
        "open": frozenset(key.split("-")[0] for key in bound),
        "can_read": selectors.may_read(user),
        "can_work": selectors.may_work(user),
        "can_log": selectors.may_log_contact(user),
        "is_open": selectors.is_open(lead),
        "call_form": bound.get("call") or CallForm(partner=selectors.is_partner(user)),
        "meeting_form": bound.get("meeting") or MeetingForm(),
    }
    if not context["can_read"]:
        return context
    clock = selectors.get_clock(lead)
    summary = clocks.summary(clock, now=now)
    tasks = list(selectors.lead_tasks(lead))
    context.update(
        clock=clock,
        clock_summary=summary,
        clock_running=clock is not None and clock.state == ClockState.RUNNING,
        clock_overdue=bool(
            summary and summary["left"] is not None and summary["left"] < dt.timedelta(0)
        ),
        clock_history=clocks.history(lead.pk) if clock is not None else [],
        tasks=[_task_row(task, bound, now=now) for task in tasks],
        no_next_step=selectors.lacks_next_step(lead) and not tasks,
        quotes=[
            QuoteRow(q, bound.get(f"quote-{q.pk}") or QuoteForm(quote=q))
            for q in selectors.lead_quotes(lead)[: selectors.MAX_ROWS]
        ],
    )
    if context["can_work"] and context["is_open"]:
        context.update(_work_forms(user, lead, bound))
    return context


def _task_row(task: Task, bound: dict[str, SalesForm], *, now: dt.datetime) -> TaskRow:
    return TaskRow(
        task,
        snooze=bound.get(f"snooze-{task.pk}") or SnoozeForm(prefix=f"snooze-{task.pk}"),
        reschedule=bound.get(f"reschedule-{task.pk}")
        or RescheduleForm(prefix=f"reschedule-{task.pk}"),
        cancel=bound.get(f"cancel-{task.pk}") or CancelTaskForm(prefix=f"cancel-{task.pk}"),
        is_late=task.due_at < now,
    )


def _work_forms(user: User, lead: Lead, bound: dict[str, SalesForm]) -> dict[str, Any]:
    moves = list_allowed_moves(user, lead)
    templates = contact.templates_for(language_of(user))
    return {
        "task_form": bound.get("task") or TaskForm(actor=user),
        "quote_form": bound.get("quote")
        or QuoteForm(currency=lead.currency or get_defaults().currency),
        "email_form": bound.get("email") or EmailForm(),
        "templates": templates,
        "mail_ready": mail_configured(),
        "can_manage_templates": may_manage_templates(user),
        "won_form": (bound.get("won") or WonForm()) if LeadStatus.WON in moves else None,
        "lost_form": (bound.get("lost") or LostForm(actor=user))
        if LeadStatus.LOST in moves
        else None,
    }


@register.inclusion_tag("sales/_follow_up_panel.html", takes_context=True)
def follow_up_panel(context: template.Context, lead: Lead) -> dict[str, Any]:
    """The panel for the viewer of the lead page (nothing for someone with no part in it)."""
    user = context["request"].user
    return panel_context(
        user,
        lead,
        bound=context.get("panel_forms"),
        notice=context.get("panel_notice") or "",
        error=context.get("panel_error") or "",
        csrf_token=context.get("csrf_token"),
    )


@register.filter
def business_span(value: dt.timedelta | None) -> str:
    """Business time as hours and minutes ("11 h 05 min"), whatever its sign."""
    if value is None:
        return "—"
    minutes = abs(int(value.total_seconds())) // 60
    hours, minutes = divmod(minutes, 60)
    if hours:
        return _("%(h)d h %(m)02d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}
