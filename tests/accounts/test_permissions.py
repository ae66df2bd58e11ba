"""Which lead fields each role may write (accounts.permissions)."""

import pytest

from leadloop.accounts.actors import SYSTEM, SourceActor
from leadloop.accounts.models import Role
from leadloop.accounts.permissions import PARTNER_LEAD_FIELDS, writable_lead_fields
from tests.factories.accounts import make_partner, make_user


@pytest.mark.parametrize("role", [Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER, Role.SALES_REP])
def test_staff_may_write_every_lead_field(db, role):
    assert writable_lead_fields(make_user(role)) is None


def test_system_and_source_keys_write_every_field_their_mapping_gives(db):
    assert writable_lead_fields(SYSTEM) is None
    assert writable_lead_fields(SourceActor(source_id=1, source_name="Web")) is None


def test_partner_writes_contact_details_and_deal_numbers_only(db):
    partner = make_user(Role.PARTNER, partner=make_partner("P"))

    assert writable_lead_fields(partner) == PARTNER_LEAD_FIELDS
    assert {"city", "phone", "email", "probability", "next_follow_up_at"} <= PARTNER_LEAD_FIELDS
    for company_field in (
        "organization_id",
        "campaign_id",
        "fit_grade",
        "bant_budget",
        "utm_source",
        "external_ref",
        "consent_at",
        "extra",
    ):
        assert company_field not in PARTNER_LEAD_FIELDS


def test_inactive_user_writes_nothing(db):
    user = make_user(Role.ADMIN)
    user.is_active = False

    assert writable_lead_fields(user) == frozenset()
