"""The marketing e-mail panel on the lead page: `{% marketing_mail_panel lead %}` in
leads/_lead_detail.html shows the lead's latest marketing mails to whoever sees the lead, and
the way to send one to marketing and admins."""

from __future__ import annotations

from typing import Any

from django import template

from leadloop.leads.models import Lead
from leadloop.nurture.mail import selectors

register = template.Library()
SHOWN = 5


@register.inclusion_tag("nurture/mail/_lead_panel.html", takes_context=True)
def marketing_mail_panel(context: template.Context, lead: Lead) -> dict[str, Any]:
    user = context["request"].user
    may_send = selectors.can_manage_mail(user)
    messages = list(selectors.list_lead_messages_for(user, lead.pk)[: SHOWN + 1])
    return {
        "lead": lead,
        "messages": messages[:SHOWN],
        "more": len(messages) > SHOWN,
        "may_send": may_send,
        "shown": may_send or bool(messages),
    }
