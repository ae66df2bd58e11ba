"""The sales follow-up pages under /sales/."""

from django.urls import URLPattern, path

from leadloop.sales.views import lead, templates

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
]
