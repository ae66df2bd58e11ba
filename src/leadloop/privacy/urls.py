"""Privacy pages under /privacy/: requests of a person, objections, retention rules."""

from django.urls import path

from leadloop.privacy import views

app_name = "privacy"

urlpatterns = [
    path("", views.requests_page, name="requests"),
    path("export/", views.export_download, name="export"),
    path("erase/", views.erase, name="erase"),
    path("leads/<int:lead_id>/objection/", views.objection, name="objection"),
    path("retention/", views.retention_page, name="retention"),
]
