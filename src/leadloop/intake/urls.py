from django.urls import path

from leadloop.intake import views
from leadloop.intake.channels import views as channel_views
from leadloop.intake.imports import views as import_views
from leadloop.intake.review import views as review_views
from leadloop.intake.web_forms import views as form_views

app_name = "intake"

urlpatterns = [
    path("in/", views.receive_post, name="receive-header"),
    path("in/<str:key>", views.receive_post, name="receive"),
    # Review: the queue, one submission, fix and reprocess, the original of a lead, the mapping.
    path("intake/", review_views.submission_list, name="submission-list"),
    # Batch import: the list, upload, confirm the columns, progress, the rejected rows.
    path("intake/imports/", import_views.import_list, name="import-list"),
    path("intake/imports/new/", import_views.import_create, name="import-create"),
    path("intake/imports/<int:batch_id>/", import_views.import_detail, name="import-detail"),
    path(
        "intake/imports/<int:batch_id>/confirm/",
        import_views.import_confirm,
        name="import-confirm",
    ),
    path(
        "intake/imports/<int:batch_id>/outcome-values/",
        import_views.import_outcome_values,
        name="import-outcome-values",
    ),
    path(
        "intake/imports/<int:batch_id>/rejected.csv",
        import_views.import_rejected,
        name="import-rejected",
    ),
    path("intake/<int:submission_id>/", review_views.submission_detail, name="submission-detail"),
    path(
        "intake/<int:submission_id>/reprocess/",
        review_views.submission_reprocess,
        name="submission-reprocess",
    ),
    path("intake/<int:submission_id>/fix/", review_views.submission_fix, name="submission-fix"),
    path(
        "intake/<int:submission_id>/original/",
        review_views.submission_download,
        name="submission-download",
    ),
    path("intake/lead/<int:lead_id>/original/", review_views.lead_original, name="lead-original"),
    path(
        "intake/lead/<int:lead_id>/original/download/",
        review_views.lead_original_download,
        name="lead-original-download",
    ),
    path("sources/<int:source_id>/mapping/", review_views.source_mapping, name="source-mapping"),
    path("sources/<int:source_id>/channel/", channel_views.source_channel, name="source-channel"),
    path(
        "sources/<int:source_id>/channel/test/",
        channel_views.source_channel_test,
        name="source-channel-test",
    ),
    path(
        "sources/<int:source_id>/mapping/preview/",
        review_views.source_mapping_preview,
        name="source-mapping-preview",
    ),
    path(
        "sources/<int:source_id>/mapping/reprocess/",
        review_views.source_reprocess_all,
        name="source-reprocess-all",
    ),
]

# Web forms: the builder, and the public hosted page, thank-you page and embed script.
urlpatterns += [
    path("forms/", form_views.form_list, name="form-list"),
    path("forms/new/", form_views.form_create, name="form-create"),
    path("forms/<int:form_id>/", form_views.form_edit, name="form-edit"),
    path("forms/<int:form_id>/preview/", form_views.form_preview, name="form-preview"),
    path("forms/<int:form_id>/fields/", form_views.field_add, name="form-field-add"),
    path(
        "forms/<int:form_id>/fields/<int:field_id>/", form_views.field_edit, name="form-field-edit"
    ),
    path(
        "forms/<int:form_id>/fields/<int:field_id>/move/",
        form_views.field_move,
        name="form-field-move",
    ),
    path(
        "forms/<int:form_id>/fields/<int:field_id>/remove/",
        form_views.field_remove,
        name="form-field-remove",
    ),
    path("f/<slug:slug>/", form_views.hosted_form, name="form-hosted"),
    path("f/<slug:slug>/thanks/", form_views.form_thanks, name="form-thanks"),
    path("f/<slug:slug>/embed.js", form_views.form_embed_js, name="form-embed-js"),
]
