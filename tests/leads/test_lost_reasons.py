"""Lost reasons on the settings pages: admins add and deactivate them, audited."""

import pytest
from django.urls import reverse

from leadloop.accounts.models import AuditAction, AuditEvent
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads.models import LostReason
from leadloop.leads.selectors import list_lost_reasons
from leadloop.leads.services import create_lost_reason, set_lost_reason_active

PAGE = reverse("leads:lost-reasons")


def test_an_admin_adds_a_lost_reason_that_is_offered(admin):
    reason = create_lost_reason(by=admin, name=" Merger  cancelled ")

    assert reason.name == "Merger cancelled"
    assert reason in list_lost_reasons(admin)
    event = AuditEvent.objects.get(action=AuditAction.SETTING_CHANGED, target_type="lost_reason")
    assert event.data == {"change": "created"}


def test_a_manager_cannot_add_a_lost_reason(manager):
    with pytest.raises(NotAllowed):
        create_lost_reason(by=manager, name="Merger cancelled")

    assert not LostReason.objects.filter(name="Merger cancelled").exists()


def test_a_lost_reason_name_is_unique(admin):
    create_lost_reason(by=admin, name="Merger cancelled")

    with pytest.raises(ValidationFailed):
        create_lost_reason(by=admin, name="merger CANCELLED")


def test_a_deactivated_reason_is_no_longer_offered(admin):
    reason = create_lost_reason(by=admin, name="Merger cancelled")

    set_lost_reason_active(reason, active=False, by=admin)

    assert reason not in list_lost_reasons(admin)
    assert LostReason.objects.filter(pk=reason.pk).exists()


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
def test_other_roles_cannot_reach_the_page(request, logged_in_client, who):
    user = request.getfixturevalue(who)

    assert logged_in_client(user).get(PAGE).status_code == 403


def test_an_admin_adds_and_deactivates_a_reason_on_the_page(logged_in_client, admin):
    client = logged_in_client(admin)

    assert client.post(PAGE, {"name": "Chose to build it in-house"}).status_code == 302
    reason = LostReason.objects.get(name="Chose to build it in-house")
    response = client.post(
        reverse("leads:lost-reason-set-active", args=[reason.pk]), {"active": "0"}
    )

    assert response.status_code == 302
    reason.refresh_from_db()
    assert not reason.is_active
    assert "Chose to build it in-house" in client.get(PAGE).text
