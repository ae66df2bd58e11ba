from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadloop.core"
    label = "core"
    verbose_name = "Core"
