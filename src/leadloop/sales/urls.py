"""The sales follow-up pages under /sales/."""

from django.urls import URLPattern, path

from leadloop.sales.views import pipeline

app_name = "sales"

urlpatterns: list[URLPattern] = [
    path("pipeline/", pipeline.pipeline_page, name="pipeline"),
    path("pipeline/forecast/", pipeline.forecast_page, name="forecast"),
    path("pipeline/leads/<int:lead_id>/move/", pipeline.pipeline_move, name="pipeline-move"),
]
