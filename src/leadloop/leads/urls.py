from django.urls import path

from leadloop.leads import views

app_name = "leads"

urlpatterns = [
    path("", views.lead_list, name="lead-list"),
]
