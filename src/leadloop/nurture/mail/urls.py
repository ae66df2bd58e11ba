from django.urls import URLPattern, URLResolver, path

from leadloop.nurture.mail.views import manage, public

urlpatterns: list[URLPattern | URLResolver] = [
    # In every marketing mail; public, no login.
    path("u/<str:token>/", public.unsubscribe, name="mail-unsubscribe"),
    path("o/<str:token>.gif", public.open_pixel, name="mail-open"),
    path("c/<str:token>/", public.click, name="mail-click"),
    # Marketing and admins.
    path("", manage.template_list, name="mail-templates"),
    path("templates/new/", manage.template_new, name="mail-template-new"),
    path("templates/preview/", manage.template_preview, name="mail-template-preview"),
    path("templates/<int:template_id>/", manage.template_edit, name="mail-template-edit"),
    path(
        "templates/<int:template_id>/delete/",
        manage.template_delete,
        name="mail-template-delete",
    ),
    path("suppressions/", manage.suppression_list, name="mail-suppressions"),
    path(
        "suppressions/<int:entry_id>/remove/",
        manage.suppression_remove,
        name="mail-suppression-remove",
    ),
    path("returned/", manage.report_list, name="mail-reports"),
    path("returned/<int:report_id>/", manage.report_detail, name="mail-report"),
    path("returned/<int:report_id>/read/", manage.report_read, name="mail-report-read"),
    path("leads/<int:lead_id>/", manage.lead_messages, name="mail-lead-messages"),
]
