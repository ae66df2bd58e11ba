"""The event types a subscription can ask for, with what each means to an integrator."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

EVENT_TYPES = {
    "lead.created": _("A lead was created (any channel, the UI, the API or an import)."),
    "lead.status_changed": _("A lead's status changed."),
    "lead.sales_ready": _("A lead became sales-ready."),
    "lead.routed": _("Routing placed a lead: with a person, in a pool or with a partner."),
    "lead.assigned": _("A lead's owner changed: a person, a team's pool or a partner."),
    "lead.claimed": _("A rep took a lead from a pool."),
    "lead.partner_rejected": _("A partner rejected a lead; it is routed again."),
    "lead.merged": _("A lead was merged into another one."),
}

# Sent by "Send test" to one subscription only; never asked for.
TEST_TYPE = "webhook.test"


def unknown_types(types: list[str]) -> list[str]:
    return [name for name in types if name not in EVENT_TYPES]
