"""What the telemarketing capability registers when the app is ready: the agent's lead
visibility, navigation, and its section of a person's data."""

from __future__ import annotations


def register() -> None:
    from django.utils.translation import gettext_lazy as _

    from leadloop.accounts.models import Role
    from leadloop.accounts.selectors import register_lead_visibility
    from leadloop.core import navigation
    from leadloop.nurture.calls.selectors import agent_leads, can_manage_calls, is_agent
    from leadloop.nurture.calls.services import privacy
    from leadloop.privacy.registry import PersonDataSection, register_section

    register_lead_visibility(Role.AGENT, agent_leads)
    register_section(
        PersonDataSection("call_attempts", export=privacy.export_for, erase=privacy.erase_for)
    )
    navigation.register(
        navigation.NavEntry(
            8, _("Call desk"), "nurture:call-desk", "day", "/nurture/calls/desk/", is_agent
        ),
        navigation.NavEntry(
            58,
            _("Call lists"),
            "nurture:call-lists",
            "campaigns",
            "/nurture/calls/",
            can_manage_calls,
        ),
    )
