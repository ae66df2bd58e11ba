from django.apps import AppConfig


class AssessmentConfig(AppConfig):
    name = "leadloop.assessment"
    label = "assessment"
    verbose_name = "Assessment"
