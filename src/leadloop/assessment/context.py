"""What one assessment run holds: the lead, the request it came with, and each stage's output.

The stages (`assessment/stages/`) declare which earlier outputs they read; the runner
(`services.assess`) hands them exactly those and stores what each returns under its name in
`Context.outputs`. A stage that failed has no output there: its dependants get `None`.
None of this writes to the database.
"""

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
    "assessment",
    "assessed_at",
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


# The stages' outputs, one per stage, stored in `Context.outputs` under the stage's name.


@dataclass(frozen=True)
class Verification:
    """verify: the parts of the values it checked (phone type, e-mail kind, address parts)."""

    normalized: dict[str, Any]

    @property
    def email_kind(self) -> str:
        return str(self.normalized.get("email_kind", ""))


@dataclass(frozen=True)
class DeviceReport:
    """device: where the request came from and with what (IP, country, network, browser)."""

    data: dict[str, Any]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


@dataclass(frozen=True)
class FraudResult:
    """fraud: the score 0–100 and what the source's policy makes of it."""

    score: int
    verdict: str

    @property
    def held(self) -> bool:
        return self.verdict != Verdict.ACCEPT


@dataclass(frozen=True)
class Enrichment:
    """enrich: field or key → value, provider, when (and what else the provider said)."""

    appended: dict[str, dict[str, Any]]


@dataclass(frozen=True)
class DuplicateResult:
    """dedup: the best match at or above the duplicate threshold, and weaker look-alikes."""

    match: Match | None
    candidates: tuple[Match, ...]


@dataclass(frozen=True)
class Scores:
    """score: the values it set on the lead, and the fit points behind the grade."""

    fit_grade: str
    fit_points: int
    engagement_score: int
    predictive_score: float | None


@dataclass(frozen=True)
class Readiness:
    """readiness: the verdict of the sales-ready rule."""

    sales_ready: bool
    summary: str
    met: int
    conditions: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "sales_ready": self.sales_ready,
            "summary": self.summary,
            "met": self.met,
            "conditions": self.conditions,
        }


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
    # Stage name → its output (see above); set by the runner only.
    outputs: dict[str, Any] = field(default_factory=dict)
    # The run's records, not stage outputs: original values a stage replaced on the lead, and
    # the failures of stages and enrichment providers.
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[dict[str, str]] = field(default_factory=list)
    # The enrich stage's working record, filled by the offline providers; returned as its output.
    appended: dict[str, dict[str, Any]] = field(default_factory=dict)
    neighbours: Any = None  # neighbours(): counts of leads sharing IP, device, e-mail, phone

    @property
    def settings(self) -> ScoringSettings:
        return self.rules.settings

    def set_value(self, name: str, value: Any) -> None:
        """Replace a lead value with its normalised form, keeping the original beside it."""
        old = getattr(self.lead, name)
        if old != value:
            self.raw.setdefault(name, old)
            setattr(self.lead, name, value)

    # The verdict as the intake and the pages read it, from the outputs (defaults when absent).

    @property
    def fraud_score(self) -> int:
        fraud: FraudResult | None = self.outputs.get("fraud")
        return fraud.score if fraud is not None else 0

    @property
    def fraud_verdict(self) -> str:
        fraud: FraudResult | None = self.outputs.get("fraud")
        return fraud.verdict if fraud is not None else Verdict.ACCEPT

    @property
    def duplicate(self) -> Match | None:
        dedup: DuplicateResult | None = self.outputs.get("dedup")
        return dedup.match if dedup is not None else None

    @property
    def fit_points(self) -> int:
        scores: Scores | None = self.outputs.get("score")
        return scores.fit_points if scores is not None else 0

    @property
    def sales_ready(self) -> bool:
        readiness: Readiness | None = self.outputs.get("readiness")
        return readiness is not None and readiness.sales_ready

    @property
    def readiness(self) -> dict[str, Any]:
        readiness: Readiness | None = self.outputs.get("readiness")
        return readiness.as_dict() if readiness is not None else {}
