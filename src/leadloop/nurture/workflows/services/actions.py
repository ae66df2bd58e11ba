"""The steps' actions live: the real services, done as the workflow's actor."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from leadloop.accounts.actors import SystemActor
from leadloop.accounts.models import User
from leadloop.assessment import services as assessment_services
from leadloop.errors import Conflict
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.notifications import services as notifications
from leadloop.nurture.mail.models import (
    MarketingTemplate,
)
from leadloop.nurture.mail.services import sending
from leadloop.nurture.workflows.services.definition import Step

logger = logging.getLogger(__name__)


@dataclass
class LiveActions:
    """The real services, as the workflow's actor."""

    lead: Lead
    actor: SystemActor
    workflow_name: str
    messages: list[int] = field(default_factory=list)

    def run(self, step: Step, *, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        return getattr(self, f"_{step.type}")(step, data, now)  # type: ignore[no-any-return]

    def _send_email(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        template = (
            MarketingTemplate.objects.filter(name=step.params["template"], is_active=True)
            .order_by("language")
            .first()
        )
        if template is None:
            raise Conflict(
                _("The template “%(name)s” is missing or not active.")
                % {"name": step.params["template"]}
            )
        if not sending.may_send_to(self.lead):
            # No consent, opted out or suppressed: no mail, and the workflow goes on (a
            # `bounced` or `opened` wait then sees nothing, as it should).
            return "skipped", _("no marketing mail to this lead (no consent or suppressed)")
        if step.type == "send_survey" and template.survey_id is None:
            raise Conflict(_("The template “%(name)s” links no survey.") % {"name": template.name})
        message = sending.send_marketing_email(self.lead, template, by=self.actor, at=now)
        data.setdefault("messages", []).append(message.pk)
        return "queued", template.name

    _send_survey = _send_email

    def _add_to_call_list(
        self, step: Step, data: dict[str, Any], now: dt.datetime
    ) -> tuple[str, str]:
        from leadloop.nurture.calls import selectors as calls
        from leadloop.nurture.calls import services as call_services

        call_list = calls.find_call_list(step.params["call_list"])
        if call_list is None:
            raise Conflict(
                _("The call list “%(name)s” is missing.") % {"name": step.params["call_list"]}
            )
        try:
            entry = call_services.add_to_call_list(
                self.lead,
                call_list,
                by=self.actor,
                due_at=now,
                origin=f"workflow {self.workflow_name}",
                at=now,
            )
        except Conflict as exc:
            return "skipped", str(exc)[:300]
        data.setdefault("call_entries", []).append(entry.pk)
        return "added", call_list.name

    def _set_field(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        name, value = step.params["field"], step.params["value"]
        self.lead = lead_services.update_lead(self.lead, {name: value}, by=self.actor)
        if name.startswith("bant_"):
            assessment_services.reassess_after_edit(self.lead)
            self.lead.refresh_from_db()
        return "set", f"{name} = {value}"[:300]

    def _set_status(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        status = step.params["status"]
        if self.lead.status == status:
            return "unchanged", status
        lead_services.transition(
            self.lead,
            to=status,
            by=self.actor,
            note=_("Workflow “%(name)s”") % {"name": self.workflow_name},
        )
        self.lead.refresh_from_db()
        return "set", status

    def _route_to_sales(
        self, step: Step, data: dict[str, Any], now: dt.datetime
    ) -> tuple[str, str]:
        lead_services.transition(
            self.lead,
            to=LeadStatus.SALES_READY,
            by=self.actor,
            note=_("Workflow “%(name)s”: qualified for sales.") % {"name": self.workflow_name},
        )
        self.lead.refresh_from_db()
        return "routed", ""

    def _disqualify(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        reason = step.params.get("reason") or _("Workflow “%(name)s”") % {
            "name": self.workflow_name
        }
        lead_services.transition(self.lead, to=LeadStatus.DISQUALIFIED, by=self.actor, note=reason)
        self.lead.refresh_from_db()
        return "disqualified", reason[:300]

    def _notify(self, step: Step, data: dict[str, Any], now: dt.datetime) -> tuple[str, str]:
        user = User.objects.filter(username=step.params["user"], is_active=True).first()
        if user is None:
            return "skipped", _("no active user “%(name)s”") % {"name": step.params["user"]}
        notifications.notify(
            [user],
            kind="workflow",
            title=gettext_noop("Workflow %(workflow)s: %(lead)s"),
            body=gettext_noop("%(message)s"),
            params={
                "workflow": self.workflow_name,
                "lead": self.lead.full_name or f"#{self.lead.pk}",
                "message": step.params.get("message") or "",
            },
            url=f"/leads/{self.lead.pk}/",
            lead_id=self.lead.pk,
        )
        return "notified", user.username
