from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "leadloop.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from leadloop.accounts.audit_selectors import can_read_audit
        from leadloop.accounts.selectors import can_manage_users
        from leadloop.core import navigation

        navigation.register(
            navigation.NavEntry(
                140, _("Audit log"), "accounts:audit-list", "intake", "/audit/", can_read_audit
            ),
            navigation.NavEntry(
                150, _("Settings"), "accounts:settings", "intake", "/settings/", can_manage_users
            ),
        )
