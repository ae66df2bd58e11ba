"""The nurture app's tables: each capability's models, in one app (one set of migrations)."""

from leadloop.nurture.calls.models import *  # noqa: F403
from leadloop.nurture.mail.models import *  # noqa: F403
from leadloop.nurture.surveys.models import *  # noqa: F403
from leadloop.nurture.workflows.models import *  # noqa: F403
