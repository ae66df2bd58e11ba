import json
import os
import subprocess
import sys

import pytest
from django.core.management import CommandError, call_command

from leadloop.accounts.models import AuditEvent, User
from leadloop.accounts.services import authenticate_api_key
from leadloop.leads.models import Source
from leadloop.leads.services import resolve_source_key


def _run(capsys, *args):
    call_command(*args)
    return json.loads(capsys.readouterr().out)


def test_createuser_with_api_key_prints_a_working_key(db, capsys):
    out = _run(
        capsys,
        "createuser",
        "maria",
        "--role",
        "sales_rep",
        "--team",
        "North",
        "--api-key",
        "--json",
    )

    user = User.objects.get(username="maria")
    assert out["role"] == "sales_rep"
    assert user.team.name == "North"
    assert authenticate_api_key(out["api_key"]) == user


def test_createuser_partner_without_partner_org_fails_with_a_reason(db):
    with pytest.raises(CommandError, match="partner organisation"):
        call_command("createuser", "pete", "--role", "partner")

    assert User.objects.count() == 0


def test_sources_create_rotate_revoke_list(db, capsys):
    created = _run(
        capsys, "sources", "create", "Provider", "--kind", "http_post", "--country", "BE", "--json"
    )
    rotated = _run(capsys, "sources", "rotate-key", "Provider", "--json")
    revoked = _run(capsys, "sources", "revoke", "Provider", "--json")
    listed = _run(capsys, "sources", "list", "--json")

    source = Source.objects.get(name="Provider")
    assert source.default_country == "BE"
    assert resolve_source_key(created["key"]) is None  # replaced by the rotation
    assert resolve_source_key(rotated["key"]) == source
    assert revoked["key_active"] is False
    assert [row["name"] for row in listed] == ["Provider"]


def test_sources_rejects_an_unknown_country(db):
    with pytest.raises(CommandError, match="Unknown country"):
        call_command("sources", "create", "Provider", "--country", "XX")


@pytest.mark.own_sqlite
def test_console_script_exits_non_zero_with_a_one_line_reason(tmp_path):
    env = {
        **os.environ,
        "LEADLOOP_VAR_DIR": str(tmp_path),
        "LEADLOOP_SQLITE_PATH": str(tmp_path / "cli.sqlite3"),
        "TASKS_BACKEND": "db",
    }
    env.pop("DATABASE_URL", None)
    leadloop = [sys.executable, "-m", "leadloop.cli"]

    help_text = subprocess.run(
        [*leadloop, "--help"], env=env, capture_output=True, text=True, check=True
    )
    subprocess.run([*leadloop, "migrate", "-v", "0"], env=env, check=True)
    missing = subprocess.run(
        [*leadloop, "sources", "revoke", "Nope"], env=env, capture_output=True, text=True
    )

    assert "serve" in help_text.stdout
    assert "worker" in help_text.stdout
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines() == ["CommandError: No source called 'Nope'."]


def test_createuser_refuses_an_unknown_time_zone(db):
    with pytest.raises(CommandError, match="time zone"):
        call_command("createuser", "tz", "--role", "marketing", "--time-zone", "Mars/Olympus")

    assert User.objects.count() == 0


def test_apikeys_create_list_and_revoke_by_prefix(db, capsys):
    from leadloop.accounts.services import create_api_key
    from tests.factories.accounts import make_user

    rep = make_user("sales_rep", username="ria")
    other = make_user("sales_rep", username="bo")
    create_api_key(other, name="bo's", by=other)

    made = _run(capsys, "apikeys", "create", "--user", "ria", "--name", "CRM sync", "--json")
    listed = _run(capsys, "apikeys", "list", "--user", "ria", "--json")
    everyone = _run(capsys, "apikeys", "list", "--json")
    revoked = _run(capsys, "apikeys", "revoke", made["prefix"] + "…", "--json")

    assert authenticate_api_key(made["key"]) is None
    assert [(r["name"], r["user"], r["is_active"]) for r in listed] == [("CRM sync", "ria", True)]
    assert listed[0]["last_used_at"] is None
    assert {r["user"] for r in everyone} == {"ria", "bo"}
    assert revoked["is_active"] is False
    assert rep.api_keys.get().revoked_at is not None


def test_apikeys_revoke_by_id_and_refuse_what_matches_nothing(db, capsys):
    from leadloop.accounts.services import create_api_key
    from tests.factories.accounts import make_user

    user = make_user("admin", username="ad")
    issued = create_api_key(user, name="x", by=user)

    revoked = _run(capsys, "apikeys", "revoke", str(issued.key.pk), "--json")
    with pytest.raises(CommandError, match="No single API key"):
        call_command("apikeys", "revoke", "llu_nothing")
    with pytest.raises(CommandError, match="needs --user and --name"):
        call_command("apikeys", "create", "--user", "ad")
    with pytest.raises(CommandError, match="No user called"):
        call_command("apikeys", "list", "--user", "nobody")

    assert revoked["id"] == issued.key.pk
    assert authenticate_api_key(issued.raw) is None


def test_apikeys_list_text_shows_created_last_used_and_state(db, capsys):
    from leadloop.accounts.services import create_api_key, revoke_api_key
    from tests.factories.accounts import make_user

    user = make_user("sales_rep", username="tess")
    issued = create_api_key(user, name="nightly", by=user)
    revoke_api_key(issued.key, by=user)

    call_command("apikeys", "list")
    out = capsys.readouterr().out

    assert f"{issued.key.prefix}…" in out
    assert "tess" in out
    assert "nightly" in out
    assert "last used never" in out
    assert "revoked" in out


def test_defaults_sets_a_country_audited_as_the_cli_and_shows_it(db, capsys):
    call_command("defaults", "--set", "country=be", "--set", "currency=USD")
    capsys.readouterr()

    shown = _run(capsys, "defaults", "--show", "--json")

    assert (shown["country"], shown["currency"]) == ("BE", "USD")
    event = AuditEvent.objects.get(target_type="defaults")
    assert (event.actor_id, event.data["country"]["after"]) == (None, "BE")


def test_defaults_refuses_an_unknown_field_or_code(db):
    with pytest.raises(CommandError):
        call_command("defaults", "--set", "colour=blue")
    with pytest.raises(CommandError):
        call_command("defaults", "--set", "country=XX")

    assert not AuditEvent.objects.filter(target_type="defaults").exists()
