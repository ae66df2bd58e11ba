"""What the surveys capability registers when the app is ready (schedule, navigation, events)."""

from __future__ import annotations

from typing import Any


def can_build_surveys(user: Any) -> bool:
    from leadloop.accounts.permissions import Permission, can

    return can(user, Permission.MANAGE_NURTURE)


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from leadloop.core import navigation
    from leadloop.nurture.surveys.services import privacy
    from leadloop.privacy.registry import PersonDataSection, register_section

    register_section(
        PersonDataSection("survey_responses", export=privacy.export_for, erase=privacy.erase_for)
    )
    navigation.register(
        navigation.NavEntry(
            57,
            _("Surveys"),
            "nurture:survey-list",
            "campaigns",
            "/nurture/surveys/",
            can_build_surveys,
        )
    )
