"""Stored secrets: encrypted with the configured keys, rotated; a clear error for a wrong key."""

from __future__ import annotations

import io
import json
import stat

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.test import Client

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment import enrichment
from leadloop.assessment.enrichment.web_call import EnrichmentFailure, call_provider
from leadloop.assessment.models import EnrichmentProvider
from leadloop.core import secrets
from leadloop.core.secrets import SecretsKeyError
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.intake.channels.ftp.ingest import poll_all_ftp
from leadloop.intake.channels.settings import check_connection, set_channel_settings
from leadloop.intake.models import ChannelSecret
from leadloop.leads.models import ChannelKind
from tests.factories.leads import make_source

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
OTHER = Fernet.generate_key().decode()


@pytest.fixture
def ftp_source(db, settings):
    settings.LEADLOOP_SECRETS_KEYS = [OLD]
    source = make_source("Provider drop", kind=ChannelKind.FTP)
    set_channel_settings(
        source,
        settings={"ftp": {"host": "127.0.0.1", "port": 1, "password": "s3cret"}},
        by=SYSTEM,
    )
    return source


@pytest.fixture
def provider(db, settings):
    settings.LEADLOOP_SECRETS_KEYS = [OLD]
    return enrichment.create_provider(
        values={
            "name": "Company data",
            "url": "https://enrich.example.net/company",
            "headers": {"Authorization": "Bearer k3y"},
            "request_fields": {"domain": "email_domain"},
            "response_fields": {"company.name": "company_name"},
        },
        by=SYSTEM,
    )


def _rotate() -> dict[str, int]:
    out = io.StringIO()
    call_command("secrets", "rotate", "--json", stdout=out)
    return json.loads(out.getvalue())


def test_a_secret_is_stored_as_a_fernet_token_of_the_first_key(ftp_source):
    row = ChannelSecret.objects.get(source=ftp_source)

    assert "s3cret" not in row.value_encrypted
    assert Fernet(OLD.encode()).decrypt(row.value_encrypted.encode()) == b"s3cret"


def test_rotation_re_encrypts_with_the_new_key_so_the_old_one_can_go(
    ftp_source, provider, settings
):
    from leadloop.accounts.actors import SYSTEM
    from leadloop.webhooks.models import Subscription
    from leadloop.webhooks.services import subscriptions as webhooks

    hook, hook_secret = webhooks.create_subscription(
        by=SYSTEM, url="https://hooks.example.net/in", events=["lead.created"]
    )
    settings.LEADLOOP_SECRETS_KEYS = [NEW, OLD]
    before = ChannelSecret.objects.get().value_encrypted
    readable_meanwhile = channel_secrets.connection_settings(ftp_source, "ftp")["password"]

    counts = _rotate()
    settings.LEADLOOP_SECRETS_KEYS = [NEW]

    row = ChannelSecret.objects.get()
    provider.refresh_from_db()
    assert readable_meanwhile == "s3cret"
    assert counts == {"channel_secrets": 1, "providers": 1, "webhooks": 1}
    hook_token = Subscription.objects.get(pk=hook.pk).secret_encrypted
    assert Fernet(NEW.encode()).decrypt(hook_token.encode()) == hook_secret.encode()
    assert row.value_encrypted != before
    assert Fernet(NEW.encode()).decrypt(row.value_encrypted.encode()) == b"s3cret"
    assert channel_secrets.connection_settings(ftp_source, "ftp")["password"] == "s3cret"
    assert enrichment.provider_headers(provider) == {"Authorization": "Bearer k3y"}


def test_dropping_the_old_key_before_rotating_gives_a_clear_error(ftp_source, settings):
    settings.LEADLOOP_SECRETS_KEYS = [NEW]
    before = ChannelSecret.objects.get().value_encrypted

    with pytest.raises(SecretsKeyError, match="the key it was encrypted with is missing"):
        channel_secrets.connection_settings(ftp_source, "ftp")
    with pytest.raises(Exception, match="cannot be decrypted with the keys"):
        _rotate()

    assert ChannelSecret.objects.get().value_encrypted == before


def test_a_wrong_key_breaks_only_the_login_not_the_pages(ftp_source, provider, settings, admin):
    settings.LEADLOOP_SECRETS_KEYS = [OTHER]
    client = Client()
    client.force_login(admin)

    channel_page = client.get(f"/sources/{ftp_source.pk}/channel/")
    provider_page = client.get(f"/assessment/enrichment/{provider.pk}/")
    sources_api = client.get("/api/v1/sources")
    channel_api = client.get(f"/api/v1/intake/sources/{ftp_source.pk}/channel")
    check = check_connection(ftp_source, by=admin)
    polls = poll_all_ftp()

    assert [r.status_code for r in (channel_page, provider_page, sources_api, channel_api)] == [
        200,
        200,
        200,
        200,
    ]
    assert "•••••• (set, changed " in channel_page.text
    assert check.ok is False
    assert check.message.startswith("Failed: A stored secret cannot be decrypted")
    assert [
        (p.source, p.error.startswith("A stored secret cannot be decrypted")) for p in polls
    ] == [("Provider drop", True)]
    with pytest.raises(EnrichmentFailure, match="cannot be decrypted") as caught:
        call_provider(provider, {"domain": "acme.nl"})
    assert caught.value.retryable is False


def test_a_key_that_is_not_a_fernet_key_is_named_without_being_echoed(settings):
    settings.LEADLOOP_SECRETS_KEYS = ["my-password-123"]

    with pytest.raises(SecretsKeyError) as caught:
        secrets.encrypt("s3cret")

    assert "leadloop secrets generate-key" in caught.value.detail
    assert "my-password-123" not in caught.value.detail


def test_without_keys_a_laptop_gets_a_private_key_file(settings, tmp_path):
    settings.LEADLOOP_SECRETS_KEYS = []
    settings.LEADLOOP_SECRETS_KEY_FILE = tmp_path / "var" / "secrets_key"

    token = secrets.encrypt("s3cret")
    again = secrets.configured_keys()

    key_file = tmp_path / "var" / "secrets_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert again == [key_file.read_text().strip()]
    assert Fernet(again[0].encode()).decrypt(token.encode()) == b"s3cret"


def test_generate_key_prints_a_usable_key():
    out = io.StringIO()

    call_command("secrets", "generate-key", stdout=out)

    key = out.getvalue().strip()
    assert Fernet(key.encode()).decrypt(Fernet(key.encode()).encrypt(b"x")) == b"x"


def test_secrets_list_shows_what_is_set_never_the_value(ftp_source):
    out = io.StringIO()

    call_command("secrets", "list", stdout=out)

    line = out.getvalue()
    assert line.startswith(f"{ftp_source.pk:>5}  Provider drop")
    assert "ftp.password" in line
    assert "s3cret" not in line


def test_an_unchanged_provider_keeps_its_token_and_date(provider, marketing):
    before = (provider.headers_encrypted, provider.headers_changed_at)
    values = {
        "name": "Renamed",
        "url": provider.url,
        "headers": {"Authorization": secrets.MASK},
        "request_fields": provider.request_fields,
        "response_fields": provider.response_fields,
    }

    enrichment.update_provider(provider, values=values, by=marketing)

    provider = EnrichmentProvider.objects.get()
    assert (provider.headers_encrypted, provider.headers_changed_at) == before
    assert provider.name == "Renamed"
