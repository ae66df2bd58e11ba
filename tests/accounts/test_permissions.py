"""Which lead fields each role may write (accounts.permissions)."""

import pytest

from leadloop.accounts.actors import SYSTEM, SourceActor
from leadloop.accounts.models import Role, User
from leadloop.accounts.permissions import (
    PARTNER_LEAD_FIELDS,
    ROLES,
    Permission,
    can,
    require,
    writable_lead_fields,
)
from leadloop.errors import NotAllowed
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


# --- The permission table ------------------------------------------------------------------------

A, M, SM, SR, P = Role.ADMIN, Role.MARKETING, Role.SALES_MANAGER, Role.SALES_REP, Role.PARTNER
AG = Role.AGENT
# Written out by hand (not read from ROLES) so a change to the table has to change this too.
EXPECTED = {
    "see_all_leads": {A, M},
    "staff_work": {A, M, SM, SR},
    "configure_sources": {A, M},
    "configure_enrichment": {A, M},
    "configure_scoring": {A, M},
    "view_readiness_rule": {A, M, SM},
    "view_predictive_models": {A, M},
    "review_intake": {A, M},
    "manage_web_forms": {A, M},
    "import_leads": {A, M},
    "restructure_organizations": {A, M},
    "route_to_partners": {A, M, SM},
    "manage_all_api_keys": {A},
    "train_models": {A, M},
    "view_audit": {A},
    "unlock_logins": {A},
    "manage_users": {A},
    "configure_routing": {A, M},
    "view_routing": {A, M, SM},
    "manage_webhooks": {A},
    "manage_follow_up": {A, SM},
    "follow_up_leads": {A, SM, SR},
    "manage_nurture": {A, M},
    "manage_call_lists": {A, M},
    "work_call_lists": {A, M, AG},
    "see_source_roi": {A, M},
    "set_kpi_norms": {A, M, SM},
    "see_sales_kpis": {A, M, SM, SR, P},
    "manage_buyers": {A, M},
    "use_buyer_portal": {Role.BUYER},
}


def test_the_table_names_every_permission():
    assert set(EXPECTED) == {p.value for p in Permission} == {p.value for p in ROLES}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_each_role_may_do_exactly_what_the_table_says(role, permission):
    user = User(username="u", role=role, is_active=True)
    assert can(user, permission) is (role in EXPECTED[permission.value])


@pytest.mark.parametrize("permission", list(Permission))
def test_the_system_may_do_everything_and_a_source_key_nothing(permission):
    assert can(SYSTEM, permission)
    assert not can(SourceActor(source_id=1, source_name="Web"), permission)


def test_an_inactive_admin_loses_the_rights_that_ask_for_an_active_user():
    user = User(username="u", role=Role.ADMIN, is_active=False)
    assert not can(user, Permission.IMPORT_LEADS)
    assert not can(user, Permission.VIEW_AUDIT)
    assert not can(user, Permission.MANAGE_ALL_API_KEYS)
    assert not can(user, Permission.MANAGE_USERS)
    assert can(user, Permission.CONFIGURE_SOURCES)  # as can_manage_configuration always did


def test_require_raises_not_allowed_with_the_permissions_message_or_the_callers():
    rep = User(username="u", role=Role.SALES_REP, is_active=True)
    with pytest.raises(NotAllowed, match=r"Only marketing and admins import files."):
        require(rep, Permission.IMPORT_LEADS)
    with pytest.raises(NotAllowed, match=r"^Custom.$"):
        require(rep, Permission.IMPORT_LEADS, "Custom.")
    require(SYSTEM, Permission.IMPORT_LEADS)
