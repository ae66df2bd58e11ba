"""The verbs of marketing e-mail: templates, sending, suppression, tracking, unsubscribes and
bounces."""

from leadloop.nurture.mail.services.bounces import (
    read_again,
    read_report,
    read_waiting_reports,
    receive_report,
    record_bounce,
)
from leadloop.nurture.mail.services.mailbox import (
    bounce_smtp_controller,
    imap_configured,
    poll_bounce_mailbox,
)
from leadloop.nurture.mail.services.sending import (
    deliver,
    send_marketing_email,
    send_test_mail,
    send_waiting,
)
from leadloop.nurture.mail.services.suppression import (
    add_suppression,
    is_suppressed,
    remove_suppression,
)
from leadloop.nurture.mail.services.templates import (
    create_template,
    delete_template,
    preview,
    update_template,
)
from leadloop.nurture.mail.services.tracking import (
    Hit,
    count_engagement,
    process_hits,
    record_click,
    record_open,
    unsubscribe,
)

__all__ = [
    "Hit",
    "add_suppression",
    "bounce_smtp_controller",
    "count_engagement",
    "create_template",
    "delete_template",
    "deliver",
    "imap_configured",
    "is_suppressed",
    "poll_bounce_mailbox",
    "preview",
    "process_hits",
    "read_again",
    "read_report",
    "read_waiting_reports",
    "receive_report",
    "record_bounce",
    "record_click",
    "record_open",
    "remove_suppression",
    "send_marketing_email",
    "send_test_mail",
    "send_waiting",
    "unsubscribe",
    "update_template",
]
