"""What the database holds about a lead, for the engine's decisions (judged opens and clicks,
bounces, survey answers, call outcomes, lead fields)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from leadloop.leads.models import Lead
from leadloop.nurture.mail.models import (
    DeliveryReport,
    MarketingMessage,
    MessageState,
    ReportKind,
    TrackingEvent,
    TrackingHit,
    TrackingKind,
)
from leadloop.nurture.surveys.models import ResponseState, SurveyResponse
from leadloop.nurture.workflows.services.definition import Condition
from leadloop.nurture.workflows.services.engine import (
    Undecided,
)
from leadloop.nurture.workflows.services.versions import (
    STAYS,
)

logger = logging.getLogger(__name__)


def _answer_matches(answers: Any, condition: Condition) -> bool:
    if condition.question is None:
        return True
    for answer in answers if isinstance(answers, list) else []:
        if not isinstance(answer, dict) or answer.get("question_id") != condition.question:
            continue
        value = answer.get("value")
        if condition.answer is None:
            return value not in (None, "", [])
        wanted = str(condition.answer).casefold()
        if isinstance(value, list):
            return wanted in {str(v).casefold() for v in value}
        return str(value).casefold() == wanted
    return False


@dataclass
class LiveFacts:
    """What the database holds about one lead, for the engine's decisions."""

    lead: Lead

    def leaving(self) -> str:
        if self.lead.erased_at is not None:
            return "erased"
        if self.lead.merged_into_id is not None:
            return "merged"
        if self.lead.status not in STAYS:
            return str(self.lead.status)
        return ""

    def field(self, name: str) -> Any:
        return getattr(self.lead, name, None)

    def happened(
        self,
        condition: Condition,
        *,
        since: dt.datetime,
        until: dt.datetime,
        mails_since: dt.datetime,
    ) -> bool:
        event = condition.event
        mails = MarketingMessage.objects.filter(
            lead_id=self.lead.pk, created_at__gte=mails_since
        ).values("id")
        if event in ("opened", "clicked"):
            # Counted hits only: a machine's prefetch or a scanner's click is no engagement.
            counted = TrackingEvent.objects.filter(
                message_id__in=mails, counted=True, at__gte=since, at__lte=until
            )
            waiting = TrackingHit.objects.filter(
                key__in=MarketingMessage.objects.filter(
                    lead_id=self.lead.pk, created_at__gte=mails_since
                ).values("key"),
                at__gte=since,
                at__lte=until,
            )
            if event == "clicked":
                counted = counted.filter(kind=TrackingKind.CLICK)
                waiting = waiting.filter(kind=TrackingKind.CLICK)
            if counted.exists():
                return True
            if waiting.exists():
                # Received in time but not judged yet (human or machine): decide after.
                raise Undecided
            return False
        if event == "bounced":
            return (
                DeliveryReport.objects.filter(
                    message_id__in=mails,
                    kind=ReportKind.HARD_BOUNCE,
                    received_at__gte=since,
                    received_at__lte=until,
                ).exists()
                or MarketingMessage.objects.filter(
                    id__in=mails,
                    state=MessageState.FAILED,
                    changed_at__gte=since,
                    changed_at__lte=until,
                ).exists()
            )
        if event == "unsubscribed":
            opted_out = self.lead.marketing_opt_out_at
            return opted_out is not None and opted_out <= until
        if event == "answered":
            responses = SurveyResponse.objects.filter(
                lead_id=self.lead.pk,
                state=ResponseState.APPLIED,
                submitted_at__gte=since,
                submitted_at__lte=until,
            ).values_list("answers", flat=True)
            return any(_answer_matches(answers, condition) for answers in responses)
        if event == "call_outcome":
            return _call_outcome(self.lead.pk, condition, since=since, until=until)
        return False


def _call_outcome(
    lead_id: int, condition: Condition, *, since: dt.datetime, until: dt.datetime
) -> bool:
    from leadloop.nurture.calls import selectors as calls

    call_list = calls.find_call_list(condition.call_list)
    if call_list is None:
        return False
    found = calls.final_outcome(lead_id, call_list.pk, since)
    if found is None:
        return False
    outcome, at = found
    return at <= until and (not condition.outcomes or outcome in condition.outcomes)
