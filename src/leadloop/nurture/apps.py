from django.apps import AppConfig


class NurtureConfig(AppConfig):
    name = "leadloop.nurture"
    label = "nurture"
    verbose_name = "Nurture"

    def ready(self) -> None:
        # Each capability registers its schedule, navigation and event subscriptions here.
        from leadloop.nurture.calls import wiring as call_wiring
        from leadloop.nurture.mail import wiring as mail_wiring
        from leadloop.nurture.surveys import wiring as survey_wiring
        from leadloop.nurture.workflows import wiring as workflow_wiring

        mail_wiring.register()
        survey_wiring.register()
        workflow_wiring.register()
        call_wiring.register()
