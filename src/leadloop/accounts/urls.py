"""The account pages: API keys (/account/api-keys/), the audit log (/audit/) and the settings
pages (/settings/)."""

from django.urls import path

from leadloop.accounts import audit_views, settings_views, views

app_name = "accounts"

urlpatterns = [
    path("account/api-keys/", views.api_key_list, name="api-keys"),
    path("account/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("audit/", audit_views.audit_list, name="audit-list"),
    path("settings/", settings_views.settings_index, name="settings"),
    path("settings/users/", settings_views.user_list, name="users"),
    path("settings/users/<int:user_id>/", settings_views.user_edit, name="user-edit"),
    path(
        "settings/users/<int:user_id>/active/",
        settings_views.user_set_active,
        name="user-set-active",
    ),
    path(
        "settings/users/<int:user_id>/password-link/",
        settings_views.user_password_link,
        name="user-password-link",
    ),
    path("settings/teams/", settings_views.team_list, name="teams"),
    path("settings/teams/<int:team_id>/", settings_views.team_edit, name="team-edit"),
    path("settings/partners/", settings_views.partner_list, name="partners"),
    path("settings/partners/<int:partner_id>/", settings_views.partner_edit, name="partner-edit"),
    path("settings/defaults/", settings_views.defaults_edit, name="defaults"),
    path("settings/api-keys/", settings_views.admin_api_key_list, name="admin-api-keys"),
    path(
        "settings/api-keys/<int:key_id>/revoke/",
        settings_views.admin_api_key_revoke,
        name="admin-api-key-revoke",
    ),
    path(
        "set-password/<str:uidb64>/<str:token>/",
        settings_views.set_password,
        name="set-password",
    ),
]
