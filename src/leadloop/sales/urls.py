"""The sales follow-up pages under /sales/."""

from django.urls import URLPattern, path

from leadloop.sales.views import my_day, pipeline, team

app_name = "sales"

urlpatterns: list[URLPattern] = [
    path("my-day/", my_day.my_day, name="my-day"),
    path("my-day/leads/<int:lead_id>/call/", my_day.day_call, name="day-call"),
    path("my-day/leads/<int:lead_id>/next-step/", my_day.day_next_step, name="day-next-step"),
    path("my-day/leads/<int:lead_id>/status/", my_day.day_move, name="day-move"),
    path("my-day/tasks/<int:task_id>/done/", my_day.day_task_done, name="day-task-done"),
    path("my-day/tasks/<int:task_id>/snooze/", my_day.day_task_snooze, name="day-task-snooze"),
    path("my-day/calendar-feed/", my_day.calendar_feed_manage, name="calendar-feed-manage"),
    path("calendar/<str:feed_token>.ics", my_day.calendar_feed, name="calendar-feed"),
    path("team/", team.team_page, name="team"),
    path("team/<int:team_id>/reassign/", team.team_reassign, name="team-reassign"),
    path("team/<int:team_id>/rules/", team.team_rules, name="team-rules"),
    path("team/<int:team_id>/targets/", team.team_target_save, name="team-target-save"),
    path("team/<int:team_id>/targets/delete/", team.team_target_delete, name="team-target-delete"),
    path("pipeline/", pipeline.pipeline_page, name="pipeline"),
    path("pipeline/forecast/", pipeline.forecast_page, name="forecast"),
    path("pipeline/leads/<int:lead_id>/move/", pipeline.pipeline_move, name="pipeline-move"),
]
