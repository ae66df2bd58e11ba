"""The assessment configuration marketing and sales edit: grading and engagement rules, the
scoring settings (grade thresholds, decay, the readiness rule, fraud weights), the blocklist and
the per-source policy.

Every service checks the actor (marketing, admin or the system), validates the values with
per-field errors (ValidationFailed), writes, and drops the cached rules snapshot so the next
assessment in this process uses the change (other processes pick it up within `rules.TTL`).
"""

from leadloop.assessment.scoring.services.blocklist import (
    create_block_entry,
    delete_block_entry,
    normalize_block_value,
    update_block_entry,
)
from leadloop.assessment.scoring.services.rules import (
    create_engagement_rule,
    create_grading_rule,
    delete_engagement_rule,
    delete_grading_rule,
    update_engagement_rule,
    update_grading_rule,
)
from leadloop.assessment.scoring.services.scoring import (
    SETTINGS_FIELDS,
    set_source_policy,
    update_scoring_settings,
)

__all__ = [
    "SETTINGS_FIELDS",
    "create_block_entry",
    "create_engagement_rule",
    "create_grading_rule",
    "delete_block_entry",
    "delete_engagement_rule",
    "delete_grading_rule",
    "normalize_block_value",
    "set_source_policy",
    "update_block_entry",
    "update_engagement_rule",
    "update_grading_rule",
    "update_scoring_settings",
]
