"""The sales follow-up pages under /sales/."""

from django.urls import URLPattern, path  # noqa: F401

app_name = "sales"

urlpatterns: list[URLPattern] = []
