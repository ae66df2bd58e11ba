"""The call script an agent reads: the list's text in the lead's language (English when the
list has none in it), Markdown with the lead's merge values filled in, escaped. The same renderer
as marketing e-mail (`nurture.mail.services.rendering.render_markdown`): raw HTML in a script is
shown as text, and a lead's name never becomes markup."""

from __future__ import annotations

from django.utils.safestring import SafeString, mark_safe

from leadloop.accounts.actors import Actor
from leadloop.accounts.models import User
from leadloop.leads.models import Lead
from leadloop.nurture.calls.models import CallList
from leadloop.nurture.mail.services import rendering

SCRIPT_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "company",
    "job_title",
    "city",
    "agent_name",
)
LANGUAGES = ("en", "nl")


def unknown_fields(text: str) -> list[str]:
    """Placeholders in a script that are not script merge fields."""
    return rendering.unknown_fields(text, known=SCRIPT_FIELDS)


def script_language(call_list: CallList, lead: Lead) -> str:
    """The lead's language when the list has a script in it, else English (else Dutch)."""
    wanted = (lead.language or "").split("-")[0].lower()
    if wanted in LANGUAGES and getattr(call_list, f"script_{wanted}").strip():
        return wanted
    return "en" if call_list.script_en.strip() else "nl"


def script_values(lead: Lead, *, agent: Actor) -> dict[str, str]:
    return {
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "full_name": lead.full_name,
        "company": lead.company_name,
        "job_title": lead.job_title,
        "city": lead.city,
        "agent_name": agent.display_name if isinstance(agent, User) else "",
    }


def render_script(call_list: CallList, lead: Lead, *, agent: Actor) -> SafeString:
    """The script as HTML for this lead and agent (safe to put in a page as it is)."""
    language = script_language(call_list, lead)
    text = getattr(call_list, f"script_{language}")
    html = rendering.render_markdown(text, script_values(lead, agent=agent))
    return mark_safe(html)  # noqa: S308 - Markdown without raw HTML, values escaped
