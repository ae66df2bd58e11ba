from django.urls import URLPattern, URLResolver, path

from leadloop.nurture.calls import views

urlpatterns: list[URLPattern | URLResolver] = [
    # Agents (and marketing and admins who are members of a list).
    path("desk/", views.desk, name="call-desk"),
    path("desk/next/", views.desk_next, name="call-desk-next"),
    path("desk/<int:call_entry_id>/outcome/", views.desk_outcome, name="call-desk-outcome"),
    path("desk/<int:call_entry_id>/release/", views.desk_release, name="call-desk-release"),
    path("stats/", views.stats, name="call-stats"),
    # Marketing and admins.
    path("", views.call_lists, name="call-lists"),
    path("new/", views.call_list_new, name="call-list-new"),
    path("<int:list_id>/", views.call_list_entries, name="call-list-entries"),
    path("<int:list_id>/edit/", views.call_list_edit, name="call-list-edit"),
    path("entries/<int:call_entry_id>/cancel/", views.call_entry_cancel, name="call-entry-cancel"),
    path("dnc/", views.dnc_list, name="call-dnc"),
    path("dnc/<int:dnc_id>/remove/", views.dnc_remove, name="call-dnc-remove"),
]
