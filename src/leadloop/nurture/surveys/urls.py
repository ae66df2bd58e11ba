from django.urls import URLPattern, URLResolver, path

from leadloop.nurture.surveys import views

# Mounted at /nurture/surveys/ in the "nurture" namespace.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.survey_list, name="survey-list"),
    path("new/", views.survey_create, name="survey-create"),
    path("<int:survey_id>/", views.survey_edit, name="survey-edit"),
    path("<int:survey_id>/preview/", views.survey_preview, name="survey-preview"),
    path("<int:survey_id>/responses/", views.survey_responses, name="survey-responses"),
    path("<int:survey_id>/questions/", views.question_add, name="survey-question-add"),
    path(
        "<int:survey_id>/questions/<int:question_id>/",
        views.question_edit,
        name="survey-question-edit",
    ),
    path(
        "<int:survey_id>/questions/<int:question_id>/move/",
        views.question_move,
        name="survey-question-move",
    ),
    path(
        "<int:survey_id>/questions/<int:question_id>/remove/",
        views.question_remove,
        name="survey-question-remove",
    ),
    path("<int:survey_id>/rules/", views.rule_add, name="survey-rule-add"),
    path(
        "<int:survey_id>/rules/<int:rule_id>/remove/", views.rule_remove, name="survey-rule-remove"
    ),
    # A lead's own page, behind a signed link (services.links).
    path("s/<str:token>/", views.survey_page, name="survey-page"),
    path("s/<str:token>/thanks/", views.survey_thanks, name="survey-thanks"),
]
