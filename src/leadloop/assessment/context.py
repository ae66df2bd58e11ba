"""What the stages share while one lead is assessed: the lead, the request it came with, and
the results so far. Stages read and fill it; none of them writes to the database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from leadloop.assessment.models import ScoringSettings, SourcePolicy
from leadloop.assessment.scoring.rules import Snapshot
from leadloop.leads.models import Lead

# The lead's columns an assessment may change; a reassessment writes back only these.
RESULT_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone_e164",
    "street",
    "house_number",
    "postal_code",
    "city",
    "region",
    "country",
    "language",
    "company_name",
    "organization_id",
    "fit_grade",
    "engagement_score",
    "predictive_score",
    "priority",
    "fraud_score",
    "hold",
    "client_ip",
    "device_fingerprint",
    "name_key",
    "assessment",
    "assessed_at",
    "search_text",
)


@dataclass(frozen=True)
class Match:
    """An existing lead that looks like the same person, how sure we are (0–1) and why."""

    lead_id: int
    score: float
    reasons: tuple[str, ...]


class Verdict:
    ACCEPT = "accept"
    REVIEW = "review"
    REJECT = "reject"


@dataclass
class Context:
    """One assessment run. `lead` is unsaved at intake and saved on a reassessment.

    `meta` is the submission's meta (ip, user_agent, fingerprint, headless signals, timing);
    empty for leads entered by hand or imported.
    """

    lead: Lead
    meta: Mapping[str, Any]
    now: dt.datetime
    rules: Snapshot
    policy: SourcePolicy
    is_new: bool
    # Entered by a person, who vouches for it: fraud signals inform but do not hold it back.
    trusted: bool = False
    # Filled by the stages, in pipeline order.
    raw: dict[str, str] = field(default_factory=dict)  # original values a stage normalised
    normalized: dict[str, Any] = field(default_factory=dict)  # parts: phone type, address parts
    device: dict[str, Any] = field(default_factory=dict)
    appended: dict[str, dict[str, Any]] = field(default_factory=dict)  # field → value, provider, at
    fraud_score: int = 0
    fraud_verdict: str = Verdict.ACCEPT
    duplicate: Match | None = None
    candidates: list[Match] = field(default_factory=list)
    fit_points: int = 0
    readiness: dict[str, Any] = field(default_factory=dict)
    sales_ready: bool = False
    errors: list[dict[str, str]] = field(default_factory=list)
    neighbours: Any = None  # fraud.neighbours(): counts of leads sharing IP, device, e-mail, phone

    @property
    def settings(self) -> ScoringSettings:
        return self.rules.settings

    def set_value(self, name: str, value: Any) -> None:
        """Replace a lead value with its normalised form, keeping the original beside it."""
        old = getattr(self.lead, name)
        if old != value:
            self.raw.setdefault(name, old)
            setattr(self.lead, name, value)
