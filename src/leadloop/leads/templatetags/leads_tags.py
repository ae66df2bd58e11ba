"""Small pieces of the lead list: the first-contact badge."""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from leadloop.leads.models import Lead, LeadStatus

register = template.Library()

# The statuses in which a lead waits for its first contact (the clock's own rule).
WAITING = frozenset({LeadStatus.SALES_READY, LeadStatus.ASSIGNED})


@register.simple_tag
def first_contact_badge(lead: Lead) -> str:
    """ "First contact due in 3 hours" or "… overdue by 2 hours" for a lead nobody reached yet.

    Wall-clock time to the stored deadline; the lead page shows the business time left."""
    due = lead.first_contact_due_at
    if due is None or lead.last_contacted_at is not None or lead.status not in WAITING:
        return ""
    now = timezone.now()
    at = date_format(timezone.localtime(due), "j M Y, H:i")
    if due >= now:
        text = _("First contact due in %(time)s") % {"time": timeuntil(due, now, depth=1)}
        return format_html('<span class="badge badge--due" title="{}">{}</span>', at, text)
    text = _("First contact overdue by %(time)s") % {"time": timesince(due, now, depth=1)}
    return format_html('<span class="badge badge--overdue" title="{}">{}</span>', at, text)
