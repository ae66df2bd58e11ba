"""API keys: made and revoked by their owner or an admin, stamped when used, dead once revoked."""

import datetime as dt

import pytest
import time_machine
from django.test import Client

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import ApiKey, Role
from leadloop.accounts.services import (
    authenticate_api_key,
    create_api_key,
    hash_key,
    revoke_api_key,
)
from leadloop.errors import NotAllowed, ValidationFailed
from tests.factories.accounts import make_user

T0 = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)


def test_a_user_makes_a_key_for_themselves_and_only_its_hash_is_stored(rep):
    issued = create_api_key(rep, name="  CRM   sync ", by=rep)

    stored = ApiKey.objects.get()
    assert issued.raw.startswith("llu_")
    assert stored.name == "CRM sync"
    assert stored.prefix == issued.raw[:12]
    assert stored.key_hash == hash_key(issued.raw)
    assert issued.raw not in {stored.name, stored.prefix, stored.key_hash}
    assert authenticate_api_key(issued.raw) == rep


def test_a_rep_cannot_make_a_key_for_someone_else(rep, teammate):
    with pytest.raises(NotAllowed):
        create_api_key(teammate, name="sneaky", by=rep)

    assert ApiKey.objects.count() == 0


def test_an_admin_makes_a_key_for_anyone(admin, rep):
    issued = create_api_key(rep, name="for the rep", by=admin)

    assert issued.key.user == rep


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "a\x00b"])
def test_a_key_needs_a_sensible_name(rep, name):
    with pytest.raises(ValidationFailed) as refused:
        create_api_key(rep, name=name, by=rep)

    assert list(refused.value.errors) == ["name"]
    assert ApiKey.objects.count() == 0


def test_an_inactive_user_gets_no_key(admin, rep):
    rep.is_active = False
    rep.save()

    with pytest.raises(ValidationFailed):
        create_api_key(rep, name="x", by=admin)


def test_a_revoked_key_stops_working_at_once(rep):
    issued = create_api_key(rep, name="script", by=rep)
    client = Client(headers={"X-API-Key": issued.raw})
    assert client.get("/api/v1/me").status_code == 200

    revoked = revoke_api_key(issued.key, by=rep)

    assert revoked.revoked_at is not None
    assert authenticate_api_key(issued.raw) is None
    assert client.get("/api/v1/me").status_code == 401
    bearer = Client(headers={"Authorization": f"Bearer {issued.raw}"})
    assert bearer.get("/api/v1/me").status_code == 401


def test_a_rep_cannot_revoke_another_users_key(rep, teammate):
    issued = create_api_key(teammate, name="theirs", by=teammate)

    with pytest.raises(NotAllowed):
        revoke_api_key(issued.key, by=rep)

    issued.key.refresh_from_db()
    assert issued.key.revoked_at is None
    assert authenticate_api_key(issued.raw) == teammate


def test_an_admin_revokes_anyones_key_and_revoking_twice_keeps_the_first_time(admin, rep):
    issued = create_api_key(rep, name="x", by=rep)
    with time_machine.travel(T0, tick=False):
        revoke_api_key(issued.key, by=admin)
    with time_machine.travel(T0 + dt.timedelta(hours=1), tick=False):
        again = revoke_api_key(issued.key, by=admin)

    assert again.revoked_at == T0


def test_last_used_is_stamped_at_most_once_a_minute(rep, django_assert_num_queries):
    issued = create_api_key(rep, name="x", by=SYSTEM)

    with time_machine.travel(T0, tick=False):
        authenticate_api_key(issued.raw)
    with (
        time_machine.travel(T0 + dt.timedelta(seconds=59), tick=False),
        django_assert_num_queries(1),  # the lookup only: no write on the hot path
    ):
        authenticate_api_key(issued.raw)
    issued.key.refresh_from_db()
    first = issued.key.last_used_at
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        authenticate_api_key(issued.raw)
    issued.key.refresh_from_db()

    assert first == T0
    assert issued.key.last_used_at == T0 + dt.timedelta(minutes=2)


def test_a_key_of_a_user_made_inactive_stops_working(rep):
    issued = create_api_key(rep, name="x", by=rep)
    rep.is_active = False
    rep.save()

    assert authenticate_api_key(issued.raw) is None


def test_partner_users_have_keys_of_their_own(partner_user):
    issued = create_api_key(partner_user, name="partner portal", by=partner_user)

    assert authenticate_api_key(issued.raw) == partner_user
    assert make_user(Role.SALES_REP).api_keys.count() == 0
