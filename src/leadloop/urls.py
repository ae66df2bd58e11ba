from django.urls import include, path

from leadloop.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("leads/", include("leadloop.leads.urls")),
    path("", include("leadloop.web.urls")),
]
