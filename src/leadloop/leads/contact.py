"""The minimum contact a lead must carry to be taken in: a source's `minimum_contact` rule.

A trade-fair list or a direct-mail file has names and postal addresses but no e-mail or phone;
a web form may insist on an e-mail. Every channel asks `has_minimum_contact` before it makes a
lead, and a value set aside as invalid does not count.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _

from leadloop.leads.models import MinimumContact

# A complete postal address: enough to post a letter to a named person or company.
ADDRESS_FIELDS = ("street", "postal_code", "city")
NAME_FIELDS = ("first_name", "last_name", "full_name", "company_name")


def _filled(data: Mapping[str, Any], name: str) -> bool:
    return bool(str(data.get(name) or "").strip())


def has_postal_address(data: Mapping[str, Any]) -> bool:
    """Street, postal code and city, and a name or company to address it to."""
    return all(_filled(data, f) for f in ADDRESS_FIELDS) and any(
        _filled(data, f) for f in NAME_FIELDS
    )


def has_minimum_contact(data: Mapping[str, Any], rule: str) -> bool:
    """Whether lead input `data` carries what `rule` (a MinimumContact value) asks for."""
    email, phone = _filled(data, "email"), _filled(data, "phone")
    if rule == MinimumContact.EMAIL:
        return email
    if rule == MinimumContact.PHONE:
        return phone
    if rule == MinimumContact.EMAIL_OR_PHONE:
        return email or phone
    return email or phone or has_postal_address(data)


def missing_contact_message(rule: str) -> str:
    """What the sender is told when a lead lacks the contact `rule` asks for."""
    if rule == MinimumContact.EMAIL:
        return _("Give an e-mail address.")
    if rule == MinimumContact.PHONE:
        return _("Give a phone number.")
    if rule == MinimumContact.EMAIL_OR_PHONE:
        return _("Give an e-mail address or a phone number.")
    return _(
        "Give an e-mail address, a phone number, or a complete postal address (street, postal "
        "code and city) with a name."
    )


def missing_contact_field(rule: str) -> str:
    return "phone" if rule == MinimumContact.PHONE else "email"
