from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "leadloop.demo"
    label = "demo"
    verbose_name = "Demo data"
