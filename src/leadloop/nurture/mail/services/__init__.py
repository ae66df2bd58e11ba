"""The verbs of marketing e-mail: templates, sending, suppression, tracking, unsubscribes and
bounces."""

from leadloop.nurture.mail.services.bounces import record_bounce
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
    record_click,
    record_open,
    unsubscribe,
)

__all__ = [
    "Hit",
    "add_suppression",
    "count_engagement",
    "create_template",
    "delete_template",
    "deliver",
    "is_suppressed",
    "preview",
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
