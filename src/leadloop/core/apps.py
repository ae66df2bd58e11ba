from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "leadloop.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.core import checks

        from leadloop.core.csp import check_form_frame_ancestors

        checks.register(check_form_frame_ancestors, checks.Tags.security)
