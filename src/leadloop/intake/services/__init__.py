"""The one intake: store the raw payload first, then parse, map, and create the lead.

submission = receive(source=…, channel="http", body=…, content_type=…)   # committed first
process_submission(submission.pk)                                           # safe to repeat
"""

from leadloop.intake.services.privacy import (
    ERASED_COLUMNS,
    KEPT_META,
    erase_lead_submissions,
    erase_submissions,
)
from leadloop.intake.services.processing import apply, decide, process_submission, settle
from leadloop.intake.services.receiving import MAX_RECORDS, REPEAT_WINDOW, receive
from leadloop.intake.services.review import (
    MAX_SWEEP_ATTEMPTS,
    original_for_lead,
    preview_mapping,
    process_orphans,
    reprocess,
    reprocess_all,
    set_mapping,
)

__all__ = [
    "ERASED_COLUMNS",
    "KEPT_META",
    "MAX_RECORDS",
    "MAX_SWEEP_ATTEMPTS",
    "REPEAT_WINDOW",
    "apply",
    "decide",
    "erase_lead_submissions",
    "erase_submissions",
    "original_for_lead",
    "preview_mapping",
    "process_orphans",
    "process_submission",
    "receive",
    "reprocess",
    "reprocess_all",
    "set_mapping",
    "settle",
]
