from django.urls import path

from leadloop.intake import views

app_name = "intake"

urlpatterns = [
    path("in/", views.receive_post, name="receive-header"),
    path("in/<str:key>", views.receive_post, name="receive"),
]
