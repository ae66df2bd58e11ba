"""The account pages: API keys (/account/api-keys/) and the audit log (/audit/)."""

from django.urls import path

from leadloop.accounts import audit_views, views

app_name = "accounts"

urlpatterns = [
    path("account/api-keys/", views.api_key_list, name="api-keys"),
    path("account/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("audit/", audit_views.audit_list, name="audit-list"),
]
