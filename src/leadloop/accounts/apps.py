from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadloop.accounts"
    label = "accounts"
    verbose_name = "Accounts"
