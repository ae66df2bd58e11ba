"""A person's survey responses, for their export and erasure (`privacy.registry`).

What the lead wrote (the raw submission and the answers) is personal data. The fact that a
survey was answered, when, and its state stay: they are counts the analytics read.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from leadloop.nurture.surveys.models import SurveyResponse


def export_for(lead_ids: list[int]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    responses = SurveyResponse.objects.filter(lead_id__in=lead_ids).select_related("survey")
    for response in responses.order_by("pk"):
        rows.append(
            {
                "kind": "survey_response",
                "lead_id": response.lead_id,
                "survey": response.survey.name,
                "state": response.state,
                "submitted_at": response.submitted_at.isoformat(),
                "answers": [
                    {"question": a.get("question", ""), "answer": a.get("answer", "")}
                    for a in response.answers or []
                ],
                "as_received": response.raw,
            }
        )
    return rows


def erase_for(lead_ids: list[int], at: dt.datetime) -> int:
    """Blank what the lead sent; keep which survey, when and in which state."""
    return SurveyResponse.objects.filter(lead_id__in=lead_ids, erased_at__isnull=True).update(
        raw="", answers=[], errors={}, erased_at=at
    )
