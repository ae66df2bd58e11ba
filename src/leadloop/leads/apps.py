from django.apps import AppConfig


class LeadsConfig(AppConfig):
    name = "leadloop.leads"
    label = "leads"
    verbose_name = "Leads"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from leadloop.accounts.selectors import is_staff_role
        from leadloop.core import navigation
        from leadloop.core.navigation import NavEntry
        from leadloop.leads import events, webhook_feed

        events.set_outbox(webhook_feed.write)

        navigation.register(
            NavEntry(10, _("Leads"), "leads:lead-list", "leads", "/leads/", navigation.everyone),
            NavEntry(
                20,
                _("Organisations"),
                "leads:organization-list",
                "orgs",
                "/organizations/",
                is_staff_role,
            ),
            NavEntry(30, _("Sources"), "leads:source-list", "sources", "/sources/", is_staff_role),
            NavEntry(
                50, _("Campaigns"), "leads:campaign-list", "campaigns", "/campaigns/", is_staff_role
            ),
        )
