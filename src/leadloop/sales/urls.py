"""The sales follow-up pages under /sales/."""

from django.urls import URLPattern, path

from leadloop.sales.views import pipeline, team

app_name = "sales"

urlpatterns: list[URLPattern] = [
    path("team/", team.team_page, name="team"),
    path("team/<int:team_id>/reassign/", team.team_reassign, name="team-reassign"),
    path("team/<int:team_id>/rules/", team.team_rules, name="team-rules"),
    path("team/<int:team_id>/targets/", team.team_target_save, name="team-target-save"),
    path("team/<int:team_id>/targets/delete/", team.team_target_delete, name="team-target-delete"),
    path("pipeline/", pipeline.pipeline_page, name="pipeline"),
    path("pipeline/forecast/", pipeline.forecast_page, name="forecast"),
    path("pipeline/leads/<int:lead_id>/move/", pipeline.pipeline_move, name="pipeline-move"),
]
