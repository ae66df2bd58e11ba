"""Guessing passwords and keys: lockout per account and per address, 429s, and unlocking."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from leadloop.accounts import services
from leadloop.accounts.actors import SYSTEM
from leadloop.errors import NotAllowed
from tests.factories.accounts import make_user

LOGIN = reverse("web:login")
START = dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _limits(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def ann(db):
    return make_user(username="ann", password=PASSWORD)


def _login(username: str, password: str, *, ip: str = "198.51.100.7", **headers: str):
    client = Client(REMOTE_ADDR=ip, headers=headers)
    response = client.post(LOGIN, {"username": username, "password": password})
    return client, response


def _logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_and_the_right_one_then_fails(ann, clock):
    answers = [_login("ann", f"wrong{n}")[1].status_code for n in range(5)]

    client, response = _login("ann", PASSWORD)

    assert answers == [200, 200, 200, 200, 429]
    assert response.status_code == 429
    assert response["Retry-After"] == "900"
    assert "Too many failed attempts. Try again in 15 minutes." in response.text
    assert not _logged_in(client)


def test_the_lockout_message_is_dutch_for_a_dutch_browser(ann, clock):
    for n in range(5):
        _login("ann", f"wrong{n}")

    _, response = _login("ann", PASSWORD, **{"Accept-Language": "nl"})

    assert "Te veel mislukte pogingen. Probeer het over 15 minuten opnieuw." in response.text


def test_the_account_is_locked_from_every_address(ann, clock):
    for n in range(5):
        _login("ann", f"wrong{n}", ip=f"198.51.100.{n + 1}")

    client, response = _login("ann", PASSWORD, ip="203.0.113.50")

    assert response.status_code == 429
    assert not _logged_in(client)


def test_an_address_is_locked_for_every_account(ann, clock):
    make_user(username="bob", password=PASSWORD)
    for n in range(5):
        _login(f"user{n}", "wrong")

    client, response = _login("bob", PASSWORD)
    elsewhere, allowed = _login("bob", PASSWORD, ip="203.0.113.50")

    assert response.status_code == 429
    assert not _logged_in(client)
    assert allowed.status_code == 302
    assert _logged_in(elsewhere)


def test_the_lock_lifts_after_the_cool_off(ann, clock):
    for n in range(5):
        _login("ann", f"wrong{n}")

    clock.shift(dt.timedelta(minutes=14))
    still_locked = _login("ann", PASSWORD)[1]
    clock.shift(dt.timedelta(minutes=15, seconds=1))
    client, response = _login("ann", PASSWORD)

    assert still_locked.status_code == 429
    assert response.status_code == 302
    assert _logged_in(client)


def test_an_admin_unlocks_a_user_from_the_cli(ann, clock, capsys):
    for n in range(5):
        _login("ann", f"wrong{n}")

    call_command("unlock", "ann")
    client, response = _login("ann", PASSWORD)

    assert "Unlocked ann (1 failure record(s) removed)." in capsys.readouterr().out
    assert response.status_code == 302
    assert _logged_in(client)


def test_an_admin_unlocks_an_address_from_the_cli(ann, clock):
    for n in range(5):
        _login(f"user{n}", "wrong")

    call_command("unlock", "--ip", "198.51.100.7")
    _, response = _login("ann", PASSWORD)

    assert response.status_code == 302
    assert AccessAttempt.objects.count() == 0


def test_only_admins_unlock(ann, rep, admin):
    for n in range(5):
        _login("ann", f"wrong{n}")

    with pytest.raises(NotAllowed):
        services.unlock(username="ann", by=rep)
    assert AccessAttempt.objects.count() == 1
    assert services.unlock(username="ann", by=admin) == 1


# --- API keys ----------------------------------------------------------------------------------


def test_wrong_api_keys_from_one_address_turn_401_into_429(ann, clock, settings):
    settings.LEADLOOP_KEY_FAILURE_LIMIT = 3
    settings.LEADLOOP_KEY_FAILURE_WINDOW_SECONDS = 600
    key = services.issue_api_key(ann).raw
    guesser = Client(REMOTE_ADDR="198.51.100.7")
    answers = [
        guesser.get("/api/v1/me", headers={"X-API-Key": f"llu_guess{n}"}).status_code
        for n in range(3)
    ]

    blocked = guesser.get("/api/v1/me", headers={"Authorization": "Bearer llu_guess9"})
    right_key = guesser.get("/api/v1/me", headers={"X-API-Key": key})
    other_address = Client(REMOTE_ADDR="203.0.113.9").get(
        "/api/v1/me", headers={"X-API-Key": "llu_guess9"}
    )

    assert answers == [401, 401, 401]
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "570"  # the 10-minute window started at 9:00
    assert blocked["Content-Type"] == "application/problem+json"
    assert blocked.json()["type"] == "https://leadloop.dev/problems/throttled"
    assert right_key.status_code == 200
    assert other_address.status_code == 401


def test_the_key_block_lifts_with_the_window_or_an_unlock(ann, clock, settings):
    settings.LEADLOOP_KEY_FAILURE_LIMIT = 2
    settings.LEADLOOP_KEY_FAILURE_WINDOW_SECONDS = 60
    guesser = Client(REMOTE_ADDR="198.51.100.7")

    def guess() -> int:
        return guesser.get("/api/v1/me", headers={"X-API-Key": "llu_guess"}).status_code

    first = [guess() for _ in range(3)]
    services.unlock(ip="198.51.100.7", by=SYSTEM)
    after_unlock = [guess() for _ in range(3)]
    clock.shift(dt.timedelta(seconds=30))
    after_window = guess()

    assert first == [401, 401, 429]
    assert after_unlock == [401, 401, 429]
    assert after_window == 401


def test_a_right_key_is_not_counted(ann, clock, settings):
    settings.LEADLOOP_KEY_FAILURE_LIMIT = 2
    key = services.issue_api_key(ann).raw
    client = Client(REMOTE_ADDR="198.51.100.7", headers={"X-API-Key": key})

    answers = [client.get("/api/v1/me").status_code for _ in range(5)]

    assert answers == [200] * 5
