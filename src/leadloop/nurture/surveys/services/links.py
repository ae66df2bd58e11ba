"""Survey links: a signed, expiring token per lead and survey, for the public survey page.

The token carries the lead's and the survey's ids, signed with the deployment's secret key and
a salt of its own, so nobody can make one for another lead or change the one they hold. It
expires after LEADLOOP_SURVEY_LINK_DAYS days.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.selectors import is_staff_role
from leadloop.errors import NotAllowed, NotFound
from leadloop.leads import selectors as lead_selectors
from leadloop.leads.models import Lead
from leadloop.nurture.surveys.models import Survey

SALT = "leadloop.nurture.surveys.link"


class LinkExpired(Exception):
    """A genuine link past its time; `language` is the page's, no lead data travels with it."""

    def __init__(self, language: str) -> None:
        super().__init__("expired")
        self.language = language


class LinkInvalid(Exception):
    """A token that was not made here (tampered, truncated, made up)."""


@dataclass(frozen=True)
class LinkTarget:
    lead: Lead
    survey: Survey


def link_lifetime() -> timedelta:
    return timedelta(days=settings.LEADLOOP_SURVEY_LINK_DAYS)


def make_token(lead: Lead, survey: Survey) -> str:
    """A fresh signed token for `lead` answering `survey`."""
    return signing.TimestampSigner(salt=SALT).sign_object({"l": lead.pk, "s": survey.pk})


def survey_path(lead: Lead, survey: Survey) -> str:
    return reverse("nurture:survey-page", args=[make_token(lead, survey)])


def survey_link(lead: Lead, survey: Survey) -> str:
    """The absolute address of `survey`'s page for `lead`, with a fresh token (mail uses it)."""
    return f"{settings.LEADLOOP_BASE_URL}{survey_path(lead, survey)}"


def page_language(lead: Lead, survey: Survey) -> str:
    """The lead's own language when the survey speaks it, else the survey's default."""
    own = (lead.language or "").lower().split("-")[0].split("_")[0]
    if own == "nl" and (survey.title_nl or survey.language == "nl"):
        return "nl"
    if own == "en":
        return "en"
    return survey.language


def resolve_token(token: str) -> LinkTarget:
    """The lead and active survey a token stands for.

    Raises LinkInvalid for anything not signed here (and for a lead or survey gone or switched
    off: the visitor learns nothing either way), LinkExpired for a genuine old one.
    """
    signer = signing.TimestampSigner(salt=SALT)
    try:
        payload = signer.unsign_object(token, max_age=link_lifetime())
    except signing.SignatureExpired:
        target = _target(signer.unsign_object(token))
        language = page_language(target.lead, target.survey) if target else "en"
        raise LinkExpired(language) from None
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    target = _target(payload)
    if target is None:
        raise LinkInvalid
    return target


def _target(payload: object) -> LinkTarget | None:
    if not isinstance(payload, dict):
        return None
    lead_id, survey_id = payload.get("l"), payload.get("s")
    if not isinstance(lead_id, int) or not isinstance(survey_id, int):
        return None
    survey = Survey.objects.filter(pk=survey_id, is_active=True).first()
    if survey is None:
        return None
    try:
        lead = lead_selectors.get_lead_for(SYSTEM, lead_id)
    except NotFound:
        return None
    if lead.erased_at is not None:
        return None
    return LinkTarget(lead=lead, survey=survey)


def link_for(actor: Actor, *, lead_id: int, survey_id: int) -> str:
    """A survey link for a lead `actor` may see (company staff only: a telemarketer, a rep)."""
    if not is_staff_role(actor):
        raise NotAllowed(_("Only company staff can make survey links."))
    lead = lead_selectors.get_lead_for(actor, lead_id)
    survey = Survey.objects.filter(pk=survey_id, is_active=True).first()
    if survey is None:
        raise NotFound(_("No such active survey."))
    return survey_link(lead, survey)
