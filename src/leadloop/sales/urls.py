"""The sales follow-up pages under /sales/."""

from django.urls import URLPattern, path

from leadloop.sales.views import lead, my_day, pipeline, team, templates

app_name = "sales"

LEAD = "leads/<int:lead_id>/"
TASK = LEAD + "tasks/<int:task_id>/"
QUOTE = LEAD + "quotes/<int:quote_id>/"

urlpatterns: list[URLPattern] = [
    path(LEAD, lead.lead_panel, name="lead-panel"),
    path(LEAD + "tasks/", lead.task_add, name="lead-task-add"),
    path(TASK + "done/", lead.task_done, name="lead-task-done"),
    path(TASK + "snooze/", lead.task_snooze, name="lead-task-snooze"),
    path(TASK + "reschedule/", lead.task_reschedule, name="lead-task-reschedule"),
    path(TASK + "cancel/", lead.task_cancel, name="lead-task-cancel"),
    path(LEAD + "calls/", lead.call_log, name="lead-call"),
    path(LEAD + "meetings/", lead.meeting_log, name="lead-meeting"),
    path(LEAD + "email/", lead.email_send, name="lead-email"),
    path(LEAD + "quotes/", lead.quote_add, name="lead-quote-add"),
    path(QUOTE, lead.quote_edit, name="lead-quote-edit"),
    path(QUOTE + "current/", lead.quote_current, name="lead-quote-current"),
    path(QUOTE + "send/", lead.quote_send, name="lead-quote-send"),
    path(LEAD + "won/", lead.lead_won, name="lead-won"),
    path(LEAD + "lost/", lead.lead_lost, name="lead-lost"),
    path("templates/", templates.template_list, name="template-list"),
    path("templates/new/", templates.template_new, name="template-new"),
    path("templates/<int:template_id>/", templates.template_edit, name="template-edit"),
    path("my-day/", my_day.my_day, name="my-day"),
    path("my-day/leads/<int:lead_id>/call/", my_day.day_call, name="day-call"),
    path("my-day/leads/<int:lead_id>/next-step/", my_day.day_next_step, name="day-next-step"),
    path("my-day/leads/<int:lead_id>/status/", my_day.day_move, name="day-move"),
    path("my-day/leads/<int:lead_id>/forms/<str:action>/", my_day.day_form, name="day-form"),
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
