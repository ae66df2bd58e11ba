"""/api/v1/me/api-keys (your own) and /api/v1/api-keys (an admin's: everyone's)."""

import json

import pytest

from leadloop.accounts.models import ApiKey
from leadloop.accounts.services import authenticate_api_key, create_api_key

MISSING_ID = 2_000_000_000


def _json(response):
    return json.loads(response.content)


def _post(client, path, body):
    return client.post(path, body, content_type="application/json")


def test_make_list_and_revoke_your_own_key(logged_in_client, rep):
    client = logged_in_client(rep)

    made = _post(client, "/api/v1/me/api-keys", {"name": "CRM sync"})
    listed = client.get("/api/v1/me/api-keys")
    raw = _json(made)["key"]
    key_id = _json(made)["api_key"]["id"]
    revoked = client.delete(f"/api/v1/me/api-keys/{key_id}")

    assert made.status_code == 201
    assert _json(made)["api_key"]["prefix"] == raw[:12]
    assert _json(made)["api_key"]["user"] == {"id": rep.pk, "username": "rep"}
    names = {(k["name"], k["is_active"]) for k in _json(listed)}
    assert names == {("CRM sync", True)}
    assert "key" not in _json(listed)[0]
    assert revoked.status_code == 200
    assert _json(revoked)["is_active"] is False
    assert _json(revoked)["revoked_at"] is not None
    assert authenticate_api_key(raw) is None


def test_the_listing_shows_when_a_key_was_last_used(api_client_for, rep):
    client = api_client_for(rep)

    keys = _json(client.get("/api/v1/me/api-keys"))

    assert keys[0]["last_used_at"] is not None


def test_a_rep_neither_sees_nor_revokes_another_users_key(api_client_for, rep, teammate):
    theirs = create_api_key(teammate, name="theirs", by=teammate)
    client = api_client_for(rep)

    own_list = _json(client.get("/api/v1/me/api-keys"))
    all_list = _json(client.get("/api/v1/api-keys"))
    filtered = _json(client.get(f"/api/v1/api-keys?user_id={teammate.pk}"))
    by_me = client.delete(f"/api/v1/me/api-keys/{theirs.key.pk}")
    by_id = client.delete(f"/api/v1/api-keys/{theirs.key.pk}")
    read = client.get(f"/api/v1/api-keys/{theirs.key.pk}")
    missing = client.delete(f"/api/v1/api-keys/{MISSING_ID}")

    assert {k["user"]["id"] for k in own_list + all_list} == {rep.pk}
    assert filtered == []
    assert (by_me.status_code, by_id.status_code, read.status_code) == (404, 404, 404)
    assert _json(by_id)["title"] == _json(missing)["title"]
    assert b"theirs" not in by_id.content
    theirs.key.refresh_from_db()
    assert theirs.key.revoked_at is None


def test_a_rep_cannot_make_a_key_for_another_user(logged_in_client, rep, teammate):
    client = logged_in_client(rep)

    existing = _post(client, "/api/v1/api-keys", {"name": "x", "user_id": teammate.pk})
    missing = _post(client, "/api/v1/api-keys", {"name": "x", "user_id": MISSING_ID})

    assert existing.status_code == 422
    assert _json(existing)["errors"] == [
        {"field": "user_id", "pointer": "#/user_id", "detail": "Unknown user."}
    ]
    assert _json(existing)["errors"] == _json(missing)["errors"]
    assert not teammate.api_keys.exists()


def test_an_admin_lists_makes_and_revokes_everyones_keys(logged_in_client, admin, rep, teammate):
    create_api_key(teammate, name="teammate's", by=teammate)
    create_api_key(admin, name="admin's", by=admin)
    client = logged_in_client(admin)

    made = _post(client, "/api/v1/api-keys", {"name": "for rep", "user_id": rep.pk})
    everyone = _json(client.get("/api/v1/api-keys"))
    reps = _json(client.get(f"/api/v1/api-keys?user_id={rep.pk}"))
    revoked = client.delete(f"/api/v1/api-keys/{_json(made)['api_key']['id']}")
    mine = _json(client.get("/api/v1/me/api-keys"))

    assert made.status_code == 201
    assert authenticate_api_key(_json(made)["key"]) is None  # revoked just now
    assert {k["user"]["username"] for k in everyone} == {"admin", "rep", "teammate"}
    assert [k["name"] for k in reps] == ["for rep"]
    assert revoked.status_code == 200
    assert {k["user"]["username"] for k in mine} == {"admin"}


def test_an_admin_revokes_only_own_keys_through_me(api_client_for, admin, rep):
    theirs = create_api_key(rep, name="theirs", by=rep)

    response = api_client_for(admin).delete(f"/api/v1/me/api-keys/{theirs.key.pk}")

    assert response.status_code == 404
    theirs.key.refresh_from_db()
    assert theirs.key.revoked_at is None


@pytest.mark.parametrize("body", [{"name": ""}, {"name": "x" * 101}, {"name": "x", "raw": "y"}])
def test_bad_key_input_is_a_field_error(logged_in_client, rep, body):
    client = logged_in_client(rep)
    before = ApiKey.objects.count()

    response = _post(client, "/api/v1/me/api-keys", body)

    assert response.status_code == 422
    assert ApiKey.objects.count() == before


def test_a_source_key_has_no_api_keys(db):
    from django.test import Client

    from tests.factories.leads import make_source_with_key

    _source, raw = make_source_with_key("Feed")
    client = Client(headers={"X-API-Key": raw})

    assert client.get("/api/v1/me/api-keys").status_code == 403
    assert _post(client, "/api/v1/me/api-keys", {"name": "x"}).status_code == 403
    assert ApiKey.objects.count() == 0


def test_a_key_cannot_make_another_key(api_client_for, rep, admin):
    rep_client, admin_client = api_client_for(rep), api_client_for(admin)

    own = _post(rep_client, "/api/v1/me/api-keys", {"name": "spare"})
    for_rep = _post(admin_client, "/api/v1/api-keys", {"name": "spare", "user_id": rep.pk})

    assert own.status_code == 403
    assert for_rep.status_code == 403
    assert "logged-in session" in _json(own)["detail"]
    assert ApiKey.objects.filter(name="spare").count() == 0
