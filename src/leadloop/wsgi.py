"""WSGI entry point (granian serves it in WSGI mode)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
application = get_wsgi_application()

# Before the first request, not during it (see assessment/warmup.py).
from leadloop.assessment.warmup import warm_up  # noqa: E402

warm_up()
