"""WSGI entry point (granian serves it in WSGI mode).

Django sits behind core/wsgi_guard.py, which reads each request body in full (with a size limit,
chunked or not) before Django runs, on threads set aside for it (docs/security/server.md).
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
django_application = get_wsgi_application()

from leadloop.core.wsgi_guard import guard  # noqa: E402

application = guard(django_application)

# Before the first request, not during it (see assessment/warmup.py).
from leadloop.assessment.warmup import warm_up  # noqa: E402

warm_up()
