from django.apps import AppConfig


class DistributionConfig(AppConfig):
    name = "leadloop.distribution"
    label = "distribution"
    verbose_name = "Distribution"

    def ready(self) -> None:
        from datetime import timedelta

        from django.utils.translation import gettext_lazy as _

        from leadloop.core import navigation, schedule
        from leadloop.distribution import selectors, services
        from leadloop.distribution.selling import wiring
        from leadloop.leads import events

        wiring.register()

        events.subscribe(events.EventName.LEAD_BECAME_SALES_READY, services.on_sales_ready)
        events.subscribe(events.EventName.ASSIGNED, services.on_assigned)
        schedule.register(
            schedule.PeriodicSpec(
                "route_waiting",
                timedelta(minutes=5),
                "leadloop.distribution.tasks.route_waiting_task",
            ),
            schedule.PeriodicSpec(
                "expire_partner_offers",
                timedelta(minutes=5),
                "leadloop.distribution.tasks.expire_offers_task",
            ),
            schedule.PeriodicSpec(
                "alert_unclaimed",
                timedelta(minutes=15),
                "leadloop.distribution.tasks.alert_unclaimed_task",
            ),
        )
        navigation.register(
            navigation.NavEntry(
                75,
                _("Routing"),
                "distribution:rules",
                "leads",
                "/distribution/",
                selectors.can_view_routing,
            ),
            navigation.NavEntry(
                15,
                _("Pool"),
                "distribution:pool",
                "leads",
                "/distribution/pool/",
                selectors.has_pool,
                badge="leadloop.distribution.selectors.count_own_pool",
                badge_label=_("waiting"),
            ),
            navigation.NavEntry(
                12,
                _("Offered leads"),
                "distribution:offers",
                "leads",
                "/distribution/offers/",
                selectors.is_partner_user,
                badge="leadloop.distribution.services.count_open_offers",
                badge_label=_("to answer"),
            ),
            navigation.NavEntry(
                76,
                _("Partners"),
                "distribution:scorecard",
                "campaigns",
                "/distribution/partners/",
                selectors.can_view_routing,
            ),
        )
