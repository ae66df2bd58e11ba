from django.urls import URLPattern, URLResolver, path

from leadloop.nurture.workflows import views

# Mounted at /nurture/workflows/ in the "nurture" namespace.
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.workflow_list, name="workflow-list"),
    path("new/", views.workflow_create, name="workflow-create"),
    path("<int:workflow_id>/", views.workflow_detail, name="workflow-detail"),
    path("<int:workflow_id>/activate/", views.workflow_activate, name="workflow-activate"),
    path("<int:workflow_id>/pause/", views.workflow_pause, name="workflow-pause"),
    path("<int:workflow_id>/trigger/", views.workflow_trigger, name="workflow-trigger"),
    path("<int:workflow_id>/definition/", views.workflow_definition, name="workflow-definition"),
    path("<int:workflow_id>/simulate/", views.workflow_simulate, name="workflow-simulate"),
    path("<int:workflow_id>/enroll/", views.workflow_enroll, name="workflow-enroll"),
    path("<int:workflow_id>/steps/", views.step_add, name="workflow-step-add"),
    path("<int:workflow_id>/steps/<slug:step_id>/", views.step_edit, name="workflow-step-edit"),
    path(
        "<int:workflow_id>/steps/<slug:step_id>/move/", views.step_move, name="workflow-step-move"
    ),
    path(
        "<int:workflow_id>/steps/<slug:step_id>/remove/",
        views.step_remove,
        name="workflow-step-remove",
    ),
    path(
        "<int:workflow_id>/leads/<int:enrollment_id>/",
        views.enrollment_detail,
        name="workflow-enrollment",
    ),
]
