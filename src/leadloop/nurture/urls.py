from django.urls import URLPattern, URLResolver, include, path

app_name = "nurture"

urlpatterns: list[URLPattern | URLResolver] = [
    path("mail/", include("leadloop.nurture.mail.urls")),
    path("surveys/", include("leadloop.nurture.surveys.urls")),
    path("workflows/", include("leadloop.nurture.workflows.urls")),
    path("calls/", include("leadloop.nurture.calls.urls")),
]
