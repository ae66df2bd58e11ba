"""The verbs of telemarketing: call lists, putting leads on them, the desk (next lead, outcome)
and the do-not-call list."""

from leadloop.nurture.calls.services.desk import log_outcome, next_for, release
from leadloop.nurture.calls.services.dnc import (
    ImportResult,
    add_dnc,
    import_dnc,
    is_on_dnc,
    phone_key,
    remove_dnc,
)
from leadloop.nurture.calls.services.entries import (
    FillResult,
    add_to_call_list,
    cancel_entry,
    fill_from_filter,
)
from leadloop.nurture.calls.services.lists import create_call_list, update_call_list
from leadloop.nurture.calls.services.scripts import render_script

__all__ = [
    "FillResult",
    "ImportResult",
    "add_dnc",
    "add_to_call_list",
    "cancel_entry",
    "create_call_list",
    "fill_from_filter",
    "import_dnc",
    "is_on_dnc",
    "log_outcome",
    "next_for",
    "phone_key",
    "release",
    "remove_dnc",
    "render_script",
    "update_call_list",
]
