from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "leadloop.intake"
    label = "intake"
    verbose_name = "Intake"
