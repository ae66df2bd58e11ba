"""WSGI entry point (granian serves it in WSGI mode)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
application = get_wsgi_application()
