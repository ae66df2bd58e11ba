"""/settings/api-keys/: an admin sees every key, makes one for an integration user, and revokes
any key after confirming; nobody else reaches the page."""

import pytest
from django.urls import reverse

from leadloop.accounts import services
from leadloop.accounts.models import ApiKey, AuditAction, AuditEvent
from leadloop.accounts.services import authenticate_api_key

KEYS = reverse("accounts:admin-api-keys")


def _revoke_url(key: ApiKey) -> str:
    return reverse("accounts:admin-api-key-revoke", args=[key.pk])


def test_an_admin_sees_every_users_keys(logged_in_client, admin, rep, partner_user):
    services.create_api_key(rep, name="Rep script", by=rep)
    services.create_api_key(partner_user, name="Partner sync", by=partner_user)

    response = logged_in_client(admin).get(KEYS)

    assert response.status_code == 200
    assert "Rep script" in response.text
    assert "Partner sync" in response.text


def test_an_admin_makes_a_key_for_an_integration_user_shown_once(logged_in_client, admin, rep):
    response = logged_in_client(admin).post(KEYS, {"name": "CRM sync", "user": rep.pk})

    assert response.status_code == 201
    key = ApiKey.objects.get(name="CRM sync")
    assert key.user_id == rep.pk
    raw = response.text.split('x-ref="text">', 1)[1].split("<", 1)[0]
    assert authenticate_api_key(raw) == rep
    event = AuditEvent.objects.get(action=AuditAction.API_KEY_CREATED, target_id=str(key.pk))
    assert event.actor_id == admin.pk


def test_revoking_asks_to_confirm_and_only_the_confirming_post_revokes(
    logged_in_client, admin, rep
):
    issued = services.create_api_key(rep, name="Old script", by=rep)
    client = logged_in_client(admin)

    asked = client.get(_revoke_url(issued.key))
    unconfirmed = client.post(_revoke_url(issued.key))
    issued.key.refresh_from_db()
    still_works = authenticate_api_key(issued.raw)
    confirmed = client.post(_revoke_url(issued.key), {"confirm": "1"})

    assert asked.status_code == unconfirmed.status_code == 200
    assert 'name="confirm" value="1"' in asked.text
    assert still_works == rep
    assert confirmed.status_code == 302
    assert authenticate_api_key(issued.raw) is None
    revoked = AuditEvent.objects.filter(action=AuditAction.API_KEY_REVOKED)
    assert [(e.actor_id, e.target_id) for e in revoked] == [(admin.pk, str(issued.key.pk))]


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
def test_other_roles_cannot_reach_the_admin_keys_page(request, logged_in_client, admin, who):
    issued = services.create_api_key(admin, name="Admin key", by=admin)
    client = logged_in_client(request.getfixturevalue(who))

    assert client.get(KEYS).status_code == 403
    assert client.post(KEYS, {"name": "sneaky"}).status_code == 403
    assert client.post(_revoke_url(issued.key), {"confirm": "1"}).status_code == 403
    assert authenticate_api_key(issued.raw) == admin
    assert not ApiKey.objects.filter(name="sneaky").exists()
    assert not AuditEvent.objects.filter(action=AuditAction.API_KEY_REVOKED).exists()
