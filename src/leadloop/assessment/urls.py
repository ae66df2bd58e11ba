"""Assessment pages under /assessment/: review queue, duplicates, scoring, enrichment, models.

Each part keeps its routes in its own views module; they are joined here."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver

from leadloop.assessment.dedup import views as dedup_views
from leadloop.assessment.enrichment import views as enrichment_views
from leadloop.assessment.predictive import views as predictive_views
from leadloop.assessment.review import views
from leadloop.assessment.scoring import views as config_views

app_name = "assessment"

urlpatterns: list[URLPattern | URLResolver] = list(views.urlpatterns)
urlpatterns += config_views.urlpatterns
urlpatterns += enrichment_views.urlpatterns
urlpatterns += dedup_views.urlpatterns
urlpatterns += predictive_views.urlpatterns
