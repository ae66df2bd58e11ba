from django.conf import settings
from django.urls import URLPattern, URLResolver, include, path

from leadloop.api import api
from leadloop.web import views as web_views

# A database that cannot answer (full disk, restarting server) is a 503 with Retry-After.
handler500 = "leadloop.core.unavailable.server_error"

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v1/", api.urls),
    # Our set_language also saves the choice on the user; the rest of i18n/ is Django's.
    path("i18n/setlang/", web_views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("leadloop.intake.urls")),
    path("assessment/", include("leadloop.assessment.urls")),
    path("privacy/", include("leadloop.privacy.urls")),
    path("distribution/", include("leadloop.distribution.urls")),
    path("selling/", include("leadloop.distribution.selling.urls")),
    path("notifications/", include("leadloop.notifications.urls")),
    path("webhooks/", include("leadloop.webhooks.urls")),
    path("sales/", include("leadloop.sales.urls")),
    path("nurture/", include("leadloop.nurture.urls")),
    path("analytics/", include("leadloop.analytics.urls")),
    path("", include("leadloop.leads.urls")),
    path("", include("leadloop.accounts.urls")),
    path("", include("leadloop.web.urls")),
]

if settings.LEADLOOP_BENCH_ENDPOINTS:
    from leadloop.core.bench_endpoint import bench_api

    urlpatterns.insert(0, path("bench/", bench_api.urls))
