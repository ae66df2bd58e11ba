from django.urls import path

from leadloop.intake import review_views, views

app_name = "intake"

urlpatterns = [
    path("in/", views.receive_post, name="receive-header"),
    path("in/<str:key>", views.receive_post, name="receive"),
    # Review: the queue, one submission, fix and reprocess, the original of a lead, the mapping.
    path("intake/", review_views.submission_list, name="submission-list"),
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
