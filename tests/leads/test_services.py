from decimal import Decimal

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import services as assessment_services
from leadloop.errors import InvalidTransition, NotAllowed, ValidationFailed
from leadloop.leads import services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus, LostReason
from tests.factories.leads import make_lead, make_organization


def test_create_normalises_email_and_phone_and_writes_created_entry(source):
    lead = assessment_services.create_lead(
        {"first_name": "Ann", "email": " Ann@Example.COM", "phone": "06-1234 5678"},
        source=source,
        by=SYSTEM,
    )

    assert lead.email == "Ann@example.com"
    assert lead.phone_raw == "06-1234 5678"
    assert lead.phone_e164 == "+31612345678"
    assert list(lead.activities.values_list("kind", flat=True)) == [ActivityKind.CREATED]


def test_invalid_email_and_phone_are_field_errors_and_nothing_is_saved(source):
    with pytest.raises(ValidationFailed) as caught:
        assessment_services.create_lead({"email": "ann@", "phone": "12"}, source=source, by=SYSTEM)

    assert set(caught.value.errors) == {"email", "phone"}
    assert Lead.objects.count() == 0
    assert Activity.objects.count() == 0


def test_unknown_field_is_an_error_not_silently_dropped(source):
    with pytest.raises(ValidationFailed) as caught:
        assessment_services.create_lead(
            {"first_name": "Ann", "shoe_size": "42"}, source=source, by=SYSTEM
        )

    assert caught.value.errors == {"shoe_size": ["Unknown field."]}


def test_phone_is_read_in_the_leads_own_country_before_the_source_default(source):
    lead = assessment_services.create_lead(
        {"phone": "030 1234567", "country": "de"}, source=source, by=SYSTEM
    )

    assert lead.country == "DE"
    assert lead.phone_e164 == "+49301234567"


def test_text_longer_than_the_column_is_a_field_error(source):
    with pytest.raises(ValidationFailed) as caught:
        assessment_services.create_lead({"first_name": "x" * 151}, source=source, by=SYSTEM)

    assert caught.value.errors == {"first_name": ["At most 150 characters."]}


def test_update_writes_each_changed_field_old_to_new(source, admin):
    lead = make_lead(source, first_name="Ann", city="Delft")

    services.update_lead(lead, {"first_name": "Anne", "city": "Delft", "probability": 40}, by=admin)

    entry = lead.activities.get(kind=ActivityKind.FIELD_CHANGED)
    assert entry.actor_user == admin
    assert entry.data == {
        "changes": [
            {"field": "first_name", "old": "Ann", "new": "Anne"},
            {"field": "probability", "old": None, "new": 40},
        ]
    }


def test_update_without_a_change_writes_no_timeline_entry(source, admin):
    lead = make_lead(source, first_name="Ann")

    services.update_lead(lead, {"first_name": "Ann"}, by=admin)

    assert lead.activities.filter(kind=ActivityKind.FIELD_CHANGED).count() == 0


def test_allowed_transition_moves_status_and_writes_timeline(source, admin):
    lead = make_lead(source)

    moved = services.transition(lead, to=LeadStatus.SALES_READY, by=admin)

    assert moved.status == LeadStatus.SALES_READY
    entry = lead.activities.get(kind=ActivityKind.STATUS_CHANGED)
    assert entry.data == {"from": "nurturing", "to": "sales_ready"}


def test_forbidden_transition_changes_nothing(source, admin):
    lead = make_lead(source)

    with pytest.raises(InvalidTransition):
        services.transition(lead, to=LeadStatus.WON, by=admin)

    lead.refresh_from_db()
    assert lead.status == LeadStatus.NURTURING
    assert lead.activities.filter(kind=ActivityKind.STATUS_CHANGED).count() == 0


def test_lost_needs_a_reason_and_closes_the_lead(source, rep):
    lead = make_lead(source, assigned_to=rep)
    services.transition(lead, to=LeadStatus.CONTACTED, by=rep)

    with pytest.raises(ValidationFailed):
        services.transition(lead, to=LeadStatus.LOST, by=rep)
    lost = services.transition(
        lead, to=LeadStatus.LOST, by=rep, lost_reason=LostReason.objects.get(name="Price")
    )

    assert lost.status == LeadStatus.LOST
    assert lost.closed_at is not None
    assert lost.lost_reason.name == "Price"


def test_recycled_lost_lead_is_open_again(source, rep):
    lead = make_lead(source, assigned_to=rep)
    services.transition(
        lead, to=LeadStatus.LOST, by=rep, lost_reason=LostReason.objects.get(name="Timing")
    )

    recycled = services.transition(lead, to=LeadStatus.NURTURING, by=rep)

    assert recycled.closed_at is None


def test_assigned_status_needs_an_owner(source, admin):
    lead = make_lead(source)

    with pytest.raises(InvalidTransition):
        services.transition(lead, to=LeadStatus.ASSIGNED, by=admin)


def test_assigning_a_new_lead_moves_it_to_assigned(source, manager, rep):
    lead = make_lead(source)

    assigned = services.assign_lead(lead, by=manager, to=rep)

    assert assigned.status == LeadStatus.ASSIGNED
    assert assigned.assigned_to == rep
    assert assigned.team == rep.team
    kinds = list(lead.activities.order_by("id").values_list("kind", flat=True))
    assert kinds == [ActivityKind.CREATED, ActivityKind.ASSIGNED, ActivityKind.STATUS_CHANGED]


def test_rep_cannot_hand_a_lead_to_someone_else(source, rep, teammate):
    lead = make_lead(source, team=rep.team)

    with pytest.raises(NotAllowed):
        services.assign_lead(lead, by=rep, to=teammate)

    lead.refresh_from_db()
    assert lead.assigned_to is None
    assert lead.activities.filter(kind=ActivityKind.ASSIGNED).count() == 1


def test_partner_can_win_but_not_disqualify(source, partner_user, partner_org):
    lead = make_lead(source, partner=partner_org)
    services.transition(lead, to=LeadStatus.CONTACTED, by=partner_user)

    with pytest.raises(NotAllowed):
        services.transition(lead, to=LeadStatus.DISQUALIFIED, by=partner_user)
    won = services.transition(
        lead, to=LeadStatus.WON, by=partner_user, order_value=Decimal("1250.00")
    )

    assert won.order_value == Decimal("1250.00")
    assert won.activities.filter(actor_kind="partner").count() == 2


def test_log_call_stamps_last_contacted(source, rep):
    lead = make_lead(source, assigned_to=rep)

    services.log_activity(lead, kind=ActivityKind.CALL, message="Left a voicemail", by=rep)

    lead.refresh_from_db()
    assert lead.last_contacted_at is not None
    assert lead.activities.filter(kind=ActivityKind.CALL).count() == 1


def test_organization_move_rewrites_the_subtree_and_refuses_cycles(admin):
    holding = make_organization("Holding")
    branch = make_organization("Branch", parent=holding)
    shop = make_organization("Shop", parent=branch)
    other = make_organization("Other")

    with pytest.raises(ValidationFailed):
        services.move_organization(holding, parent=shop, by=admin)
    services.move_organization(branch, parent=other, by=admin)

    shop.refresh_from_db()
    assert shop.path == f"/{other.pk}/{branch.pk}/{shop.pk}/"
    assert shop.depth == 2


def test_weighted_revenue_is_revenue_times_probability(source):
    lead = make_lead(source, potential_revenue="10000", probability=35)

    assert lead.weighted_revenue == Decimal("3500.00")


@pytest.mark.parametrize("role_fixture", ["rep", "manager", "partner_user", "marketing"])
def test_whoever_creates_a_lead_can_see_it(request, source, role_fixture):
    from leadloop.leads import selectors

    user = request.getfixturevalue(role_fixture)

    lead = assessment_services.create_lead({"last_name": "Mine"}, source=source, by=user)

    assert selectors.get_lead_for(user, lead.pk).pk == lead.pk
