"""The sales follow-up pages under /sales/."""

from django.urls import URLPattern, path

from leadloop.sales.views import team

app_name = "sales"

urlpatterns: list[URLPattern] = [
    path("team/", team.team_page, name="team"),
    path("team/<int:team_id>/reassign/", team.team_reassign, name="team-reassign"),
    path("team/<int:team_id>/rules/", team.team_rules, name="team-rules"),
    path("team/<int:team_id>/targets/", team.team_target_save, name="team-target-save"),
    path("team/<int:team_id>/targets/delete/", team.team_target_delete, name="team-target-delete"),
]
