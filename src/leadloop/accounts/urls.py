"""Account pages: the audit log."""

from django.urls import path

from leadloop.accounts import audit_views

app_name = "accounts"

urlpatterns = [
    path("audit/", audit_views.audit_list, name="audit-list"),
]
