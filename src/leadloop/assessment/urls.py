"""Assessment pages under /assessment/: review queue, duplicates, scoring, enrichment, models.

Each part keeps its routes in its own views module; they are joined here."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from leadloop.assessment import (
    config_views,
    dedup_views,
    enrichment_views,
    predictive_views,
    views,
)

app_name = "assessment"

urlpatterns: list[URLPattern | URLResolver] = list(views.urlpatterns)
urlpatterns += config_views.urlpatterns
urlpatterns += enrichment_views.urlpatterns
urlpatterns += dedup_views.urlpatterns
urlpatterns += predictive_views.urlpatterns
