"""The migrations that move clear-text secrets out of settings documents, forward and back."""

from __future__ import annotations

import json

import pytest
from cryptography.fernet import Fernet
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from leadloop.core import secrets

KEY = Fernet.generate_key().decode()
BEFORE = [("intake", "0007_channel_secret"), ("assessment", "0001_initial")]
AFTER = [("intake", "0008_move_channel_passwords"), ("assessment", "0002_encrypt_provider_headers")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps(transactional_db, settings):
    settings.LEADLOOP_SECRETS_KEYS = [KEY]
    apps = _migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_passwords_and_provider_keys_move_out_encrypted_and_back(old_apps):
    # Rows as an older version wrote them: only the historical models can make them.
    Source = old_apps.get_model("leads", "Source")
    Provider = old_apps.get_model("assessment", "EnrichmentProvider")
    ftp = Source.objects.create(
        name="Drop",
        kind="ftp",
        field_mapping={
            # Form labels, not secrets: they stay.
            "fields": {"Password": "extra.password", "password": "extra.pw"},
            "ftp": {"host": "ftp.example.net", "username": "p", "password": "s3cret"},
        },
    )
    mail = Source.objects.create(
        name="Mail", kind="email", field_mapping={"imap": {"host": "h", "password": ""}}
    )
    provider = Provider.objects.create(
        name="Company data",
        url="https://enrich.example.net/",
        headers={"Authorization": "Bearer k3y"},
        request_fields={"domain": "email_domain"},
        response_fields={"company.name": "company_name"},
    )

    new_apps = _migrate(AFTER)

    ChannelSecret = new_apps.get_model("intake", "ChannelSecret")
    moved = new_apps.get_model("leads", "Source").objects.get(pk=ftp.pk)
    row = ChannelSecret.objects.get()
    encrypted = new_apps.get_model("assessment", "EnrichmentProvider").objects.get(pk=provider.pk)
    assert moved.field_mapping == {
        "fields": {"Password": "extra.password", "password": "extra.pw"},
        "ftp": {"host": "ftp.example.net", "username": "p"},
    }
    assert new_apps.get_model("leads", "Source").objects.get(pk=mail.pk).field_mapping == {
        "imap": {"host": "h"}
    }
    assert (row.source_id, row.section, row.name) == (ftp.pk, "ftp", "password")
    assert secrets.decrypt(row.value_encrypted) == "s3cret"
    assert encrypted.header_names == ["Authorization"]
    assert json.loads(secrets.decrypt(encrypted.headers_encrypted)) == {
        "Authorization": "Bearer k3y"
    }

    back_apps = _migrate(BEFORE)

    restored = back_apps.get_model("leads", "Source").objects.get(pk=ftp.pk)
    assert restored.field_mapping["ftp"]["password"] == "s3cret"
    assert back_apps.get_model("assessment", "EnrichmentProvider").objects.get(
        pk=provider.pk
    ).headers == {"Authorization": "Bearer k3y"}
    assert back_apps.get_model("intake", "ChannelSecret").objects.count() == 0
