"""What the surveys capability registers when the app is ready (schedule, navigation, events)."""


def register() -> None:
    pass
