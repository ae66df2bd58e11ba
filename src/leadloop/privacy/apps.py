from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "leadloop.privacy"
    label = "privacy"
    verbose_name = "Privacy"
