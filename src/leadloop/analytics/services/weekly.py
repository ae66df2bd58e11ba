"""The weekly report e-mail: on Monday from 07:00 (the deployment's time zone) every user with
figures gets last week's in their language, as HTML with a plain-text part and links into the
app, unless they turned it off. Marketing and admins: leads, orders, revenue, cost and ROI with
the sources that did not pay; sales managers and reps: the KPIs against the norms of what they
see; anyone who watches alerts: what breaches now. Written down before it is sent, so it goes
out at most once a week (docs/analytics.md)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import Role, User
from leadloop.accounts.permissions import Permission, can
from leadloop.accounts.selectors import get_defaults
from leadloop.analytics.models import AlertState, ReportChoice, WeeklyReport
from leadloop.analytics.selectors import kpis, periods, sources
from leadloop.analytics.selectors.alerts import list_rules_for
from leadloop.errors import NotAllowed
from leadloop.notifications import services as notifications

logger = logging.getLogger(__name__)
SEND_AT = dt.time(7, 0)
ROLES = (Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER, Role.SALES_REP)


def _zone() -> ZoneInfo:
    return ZoneInfo(get_defaults().time_zone or "Europe/Amsterdam")


def week_due(now: dt.datetime) -> dt.date:
    """The Monday of the last report that fell due: this Monday from 07:00, else the one before."""
    local = now.astimezone(_zone())
    monday = local.date() - dt.timedelta(days=local.weekday())
    if local.weekday() == 0 and local.time() < SEND_AT:
        monday -= dt.timedelta(days=7)
    return monday


def set_weekly_report(user: User, *, subscribed: bool, by: Actor) -> ReportChoice:
    """Turn the weekly report on or off for `user` (only themselves)."""
    if not isinstance(by, User) or by.pk != user.pk:
        raise NotAllowed(_("You choose only your own e-mails."))
    choice, _created = ReportChoice.objects.update_or_create(
        user=user, defaults={"weekly_report": subscribed, "changed_at": timezone.now()}
    )
    return choice


def wants_weekly_report(user: User) -> bool:
    choice = ReportChoice.objects.filter(user=user).first()
    return choice is None or choice.weekly_report


def recipients(week_of: dt.date) -> list[User]:
    """Active users with figures and an address, who did not turn it off and were not sent
    this week's yet."""
    off = ReportChoice.objects.filter(weekly_report=False).values("user_id")
    done = WeeklyReport.objects.filter(week_of=week_of).values("user_id")
    return list(
        User.objects.filter(is_active=True, role__in=ROLES)
        .exclude(email="")
        .exclude(pk__in=off)
        .exclude(pk__in=done)
        .order_by("pk")
    )


def figures(user: User, week_of: dt.date, *, now: dt.datetime) -> dict[str, Any]:
    """What `user`'s report shows: last week (Monday to Sunday before `week_of`)."""
    zone = _zone()
    spec = f"{week_of - dt.timedelta(days=7)}..{week_of - dt.timedelta(days=1)}"
    period = periods.parse_period(spec, today=week_of, zone=zone)
    base = settings.LEADLOOP_BASE_URL
    query = f"?period={spec}"
    found: dict[str, Any] = {"period": period, "user": user, "base": base}
    if can(user, Permission.SEE_SOURCE_ROI):
        report = sources.source_report(user, period)
        found["sources"] = report
        found["unpaid"] = [r for r in report.rows if r["roi"] is not None and r["roi"] < 1]
        found["sources_url"] = base + reverse("analytics:sources") + query
    report_kpis = kpis.kpi_report(
        user, period, grouping="team" if user.role != Role.SALES_REP else "rep", now=now
    )
    found["kpis"] = report_kpis
    found["kpis_url"] = base + reverse("analytics:kpis") + query
    if can(user, Permission.SET_KPI_NORMS):
        rules = list_rules_for(user)
        found["breaching"] = list(
            AlertState.objects.filter(rule__in=rules, breached_at__isnull=False)
            .select_related("rule")
            .order_by("rule__name", "subject_name")
        )
        found["alerts_url"] = base + reverse("analytics:alerts")
    found["settings_url"] = base + reverse("analytics:kpis")
    return found


def message(user: User, week_of: dt.date, *, now: dt.datetime) -> EmailMultiAlternatives:
    with translation.override(user.language or get_defaults().language):
        context = figures(user, week_of, now=now)
        subject = _("Leadloop: your week of %(first)s") % {
            "first": context["period"].first.strftime("%d-%m-%Y")
        }
        text = render_to_string("analytics/email/weekly.txt", context)
        html = render_to_string("analytics/email/weekly.html", context)
    mail = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.LEADLOOP_MAIL_FROM,
        to=[user.email],
        headers={"Message-ID": f"<leadloop-weekly-{week_of}-{user.pk}@leadloop>"},
    )
    mail.attach_alternative(html, "text/html")
    return mail


def send_due(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Send the weekly report that fell due to everyone who has not had it; at most once each."""
    now = now or timezone.now()
    week_of = week_due(now)
    counts = {"sent": 0, "failed": 0}
    if not notifications.mail_configured():
        return counts
    connection = None
    for user in recipients(week_of):
        try:
            with transaction.atomic():
                row = WeeklyReport.objects.create(
                    user=user, week_of=week_of, state=WeeklyReport.State.SENDING, created_at=now
                )
        except IntegrityError:  # another worker took this one
            continue
        try:
            connection = connection or notifications.mail_connection()
            mail = message(user, week_of, now=now)
            mail.connection = connection
            mail.send()
        except Exception as exc:  # a refused or unreachable server: recorded, not retried
            logger.warning("weekly report not sent user=%d: %s", user.pk, exc)
            WeeklyReport.objects.filter(pk=row.pk).update(
                state=WeeklyReport.State.FAILED, error=str(exc)[:300]
            )
            counts["failed"] += 1
            connection = None
            continue
        WeeklyReport.objects.filter(pk=row.pk).update(state=WeeklyReport.State.SENT, sent_at=now)
        counts["sent"] += 1
    return counts
