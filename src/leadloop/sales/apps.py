from django.apps import AppConfig


class SalesConfig(AppConfig):
    name = "leadloop.sales"
    label = "sales"
    verbose_name = "Sales follow-up"
