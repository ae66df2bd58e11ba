"""The lead app's pages; mounted at the site root so each section keeps its own path."""

from django.urls import path

from leadloop.leads import views
from leadloop.leads.views import lost_reasons

app_name = "leads"

urlpatterns = [
    path("leads/", views.lead_list, name="lead-list"),
    path("leads/new/", views.lead_create, name="lead-create"),
    path("leads/bulk/", views.lead_bulk, name="lead-bulk"),
    path("leads/move/", views.leads_move, name="leads-move"),
    path("leads/export/<str:fmt>/", views.lead_export, name="lead-export"),
    path("leads/views/", views.saved_view_create, name="savedview-create"),
    path("leads/views/<int:view_id>/delete/", views.saved_view_delete, name="savedview-delete"),
    path("leads/<int:lead_id>/", views.lead_detail, name="lead-detail"),
    path("leads/<int:lead_id>/edit/", views.lead_edit, name="lead-edit"),
    path("leads/<int:lead_id>/status/", views.lead_transition, name="lead-transition"),
    path("leads/<int:lead_id>/assign/", views.lead_assign, name="lead-assign"),
    path("leads/<int:lead_id>/activities/", views.lead_log_activity, name="lead-log-activity"),
    path("organizations/", views.organization_list, name="organization-list"),
    path("organizations/<int:org_id>/", views.organization_detail, name="organization-detail"),
    path("settings/lost-reasons/", lost_reasons.lost_reason_list, name="lost-reasons"),
    path(
        "settings/lost-reasons/<int:reason_id>/active/",
        lost_reasons.lost_reason_set_active,
        name="lost-reason-set-active",
    ),
    path("sources/", views.source_list, name="source-list"),
    path("sources/<int:source_id>/rotate/", views.source_rotate_key, name="source-rotate-key"),
    path("sources/<int:source_id>/revoke/", views.source_revoke_key, name="source-revoke-key"),
    path("sources/<int:source_id>/limits/", views.source_limits, name="source-limits"),
    path("sources/<int:source_id>/rules/", views.source_rules, name="source-rules"),
    path("campaigns/", views.campaign_list, name="campaign-list"),
]
