"""The account pages, under /account/."""

from django.urls import path

from leadloop.accounts import views

app_name = "accounts"

urlpatterns = [
    path("api-keys/", views.api_key_list, name="api-keys"),
    path("api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]
