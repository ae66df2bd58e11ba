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

# Everything loaded so far (Django, the URL map, the assessment's data: ~150 MB) lives as long as
# the process. Frozen, it is left out of the garbage collector's full collections, which
# otherwise took 140-220 ms of CPU each and stalled every request queued behind them: that was
# the tail of the mail tracking endpoints (p99 0.7-1.75 s, docs/benchmarks.md, "Nurture").
import gc  # noqa: E402

gc.freeze()
