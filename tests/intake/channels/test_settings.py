"""Channel settings per source: validation, passwords kept and never shown, test connection."""

from __future__ import annotations

import pytest
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.core.secrets import MASK
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake import services
from leadloop.intake.channels import secrets as channel_secrets
from leadloop.intake.channels.settings import channel_settings_for, set_channel_settings
from leadloop.intake.models import ChannelSecret
from leadloop.leads.models import ChannelKind
from tests.factories.leads import make_source
from tests.intake.channels.ftp import test_client as test_ftp

ftp_server = test_ftp.ftp_server  # the real FTP server fixture

FTP_FORM = {
    "ftp.host": "ftp.example.net",
    "ftp.port": "2121",
    "ftp.username": "provider",
    "ftp.password": "",
    "ftp.directory": "/drop",
    "ftp.passive": "on",
}
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>Leads</title>'
    "<item><guid>a</guid><title>A</title></item><item><guid>b</guid><title>B</title></item>"
    "</channel></rss>"
)


@pytest.fixture
def ftp_source(db):
    source = make_source("Provider drop", kind=ChannelKind.FTP)
    return services.set_mapping(source, mapping={"fields": {"Naam": "full_name"}}, by=SYSTEM)


@pytest.fixture
def mail_source(db):
    return make_source("Mail leads", kind=ChannelKind.EMAIL)


def _page(client, source):
    return reverse("intake:source-channel", args=[source.pk])


def test_ftp_settings_are_stored_beside_the_mapping(logged_in_client, marketing, ftp_source):
    client = logged_in_client(marketing)

    response = client.post(_page(client, ftp_source), {**FTP_FORM, "ftp.password": "s3cret"})

    ftp_source.refresh_from_db()
    assert response.status_code == 302
    assert ftp_source.field_mapping == {
        "fields": {"Naam": "full_name"},
        "ftp": {
            "host": "ftp.example.net",
            "port": 2121,
            "username": "provider",
            "directory": "/drop",
            "tls": False,
            "passive": True,
            "sftp": False,
            "host_key": "",
        },
    }
    assert channel_secrets.connection_settings(ftp_source, "ftp")["password"] == "s3cret"
    stored = ChannelSecret.objects.get(source=ftp_source, section="ftp")
    assert (stored.name, stored.updated_by) == ("password", marketing)
    assert "s3cret" not in stored.value_encrypted


def test_a_blank_password_keeps_the_stored_one_and_it_is_never_shown(
    logged_in_client, marketing, ftp_source
):
    client = logged_in_client(marketing)
    client.post(_page(client, ftp_source), {**FTP_FORM, "ftp.password": "s3cret"})

    client.post(_page(client, ftp_source), {**FTP_FORM, "ftp.directory": "/other"})
    page = client.get(_page(client, ftp_source))

    ftp_source.refresh_from_db()
    assert channel_secrets.connection_settings(ftp_source, "ftp")["password"] == "s3cret"
    assert ftp_source.field_mapping["ftp"]["directory"] == "/other"
    assert "s3cret" not in page.text
    assert "•••••• (set, changed " in page.text
    assert 'name="ftp.password" type="password" value=""' in page.text
    assert channel_settings_for(ftp_source)["ftp"]["has_password"] is True
    assert "password" not in channel_settings_for(ftp_source)["ftp"]


def test_forget_the_stored_password_clears_it(logged_in_client, marketing, ftp_source):
    client = logged_in_client(marketing)
    client.post(_page(client, ftp_source), {**FTP_FORM, "ftp.password": "s3cret"})

    response = client.post(_page(client, ftp_source), {**FTP_FORM, "ftp.clear_password": "on"})
    page = client.get(_page(client, ftp_source))

    assert response.status_code == 302
    assert ChannelSecret.objects.filter(source=ftp_source).count() == 0
    assert "No password is stored." in page.text
    assert "ftp.clear_password" not in page.text


def test_a_password_cannot_be_put_in_the_mapping(ftp_source, marketing):
    before = dict(ftp_source.field_mapping)

    with pytest.raises(ValidationFailed) as caught:
        services.set_mapping(ftp_source, mapping={"ftp": {"password": "s3cret"}}, by=marketing)

    ftp_source.refresh_from_db()
    assert list(caught.value.errors) == ["ftp.password"]
    assert ftp_source.field_mapping == before


@pytest.mark.parametrize(
    ("section", "value", "field"),
    [
        ("ftp", {"host": "", "port": 21}, "ftp.host"),
        ("ftp", {"host": "ftp.example.net", "port": 70000}, "ftp.port"),
        ("ftp", {"host": "ftp.example.net", "port": "twenty"}, "ftp.port"),
    ],
)
def test_invalid_ftp_settings_are_refused(ftp_source, marketing, section, value, field):
    before = dict(ftp_source.field_mapping)

    with pytest.raises(ValidationFailed) as caught:
        set_channel_settings(ftp_source, settings={section: value}, by=marketing)

    ftp_source.refresh_from_db()
    assert list(caught.value.errors) == [field]
    assert ftp_source.field_mapping == before


@pytest.mark.parametrize(
    ("given", "field"),
    [
        ({"email_address": "leads acme@example.com"}, "email_address"),
        ({"email_address": "leads@"}, "email_address"),
        # Django's validator takes it; the project's check (email-validator) does not.
        ({"email_address": "leads@localhost"}, "email_address"),
        ({"email_rules": {"body_start": "^(--- Lead"}}, "email_rules.body_start"),
        ({"imap": {"host": "imap.example.net", "port": 0, "username": "x"}}, "imap.port"),
        ({"imap": {"host": "imap.example.net/inbox", "username": "x"}}, "imap.host"),
    ],
)
def test_invalid_mail_settings_are_refused(mail_source, marketing, given, field):
    with pytest.raises(ValidationFailed) as caught:
        set_channel_settings(mail_source, settings=given, by=marketing)

    mail_source.refresh_from_db()
    assert list(caught.value.errors) == [field]
    assert mail_source.field_mapping == {}


def test_a_feed_url_must_be_http_or_https(logged_in_client, marketing, db):
    source = make_source("Feed", kind=ChannelKind.RSS)
    client = logged_in_client(marketing)

    response = client.post(_page(client, source), {"feed.url": "file:///etc/passwd"})

    source.refresh_from_db()
    assert response.status_code == 422
    assert "Give an http:// or https:// address." in response.text
    assert source.field_mapping == {}


def test_mail_settings_and_rules_are_stored(mail_source, marketing):
    set_channel_settings(
        mail_source,
        settings={
            "email_address": "leads-acme",
            "email_rules": {"body_start": "^--- Lead", "label_aliases": {"Naam klant": "name"}},
        },
        by=marketing,
    )

    mail_source.refresh_from_db()
    assert mail_source.field_mapping == {
        "email_address": "leads-acme",
        "email_rules": {"body_start": "^--- Lead", "label_aliases": {"Naam klant": "name"}},
    }


def test_settings_of_another_channel_are_refused(ftp_source, marketing):
    with pytest.raises(ValidationFailed) as caught:
        set_channel_settings(ftp_source, settings={"feed": {"url": "https://x"}}, by=marketing)

    assert list(caught.value.errors) == ["feed"]


def test_a_rep_gets_404_and_changes_nothing(logged_in_client, rep, ftp_source):
    client = logged_in_client(rep)
    before = dict(ftp_source.field_mapping)

    responses = [
        client.get(_page(client, ftp_source)),
        client.post(_page(client, ftp_source), FTP_FORM),
        client.post(reverse("intake:source-channel-test", args=[ftp_source.pk])),
    ]

    ftp_source.refresh_from_db()
    assert [r.status_code for r in responses] == [404, 404, 404]
    assert ftp_source.field_mapping == before
    with pytest.raises(NotAllowed):
        set_channel_settings(ftp_source, settings={"ftp": {"host": "x"}}, by=rep)


def test_the_api_masks_passwords_and_keeps_them(api_client_for, marketing, ftp_source):
    client = api_client_for(marketing)
    url = f"/api/v1/intake/sources/{ftp_source.pk}/channel"
    client.put(url, {"ftp": {"host": "ftp.example.net", "password": "s3cret"}}, "application/json")

    kept = client.put(url, {"ftp": {"directory": "/drop", "password": ""}}, "application/json")
    masked = client.put(url, {"ftp": {"password": MASK}}, "application/json")
    old_mask = client.put(url, {"ftp": {"password": "••••"}}, "application/json")
    shown = client.get(url)

    ftp_source.refresh_from_db()
    stored = ChannelSecret.objects.get(source=ftp_source)
    assert (kept.status_code, masked.status_code, old_mask.status_code) == (200, 200, 200)
    assert shown.json() == {
        "ftp": {
            "host": "ftp.example.net",
            "port": 21,
            "username": "",
            "directory": "/drop",
            "tls": False,
            "passive": True,
            "sftp": False,
            "host_key": "",
            "has_password": True,
            "password_changed_at": stored.updated_at.isoformat(),
        }
    }
    assert channel_secrets.connection_settings(ftp_source, "ftp")["password"] == "s3cret"


def test_the_api_clears_a_password_on_request(api_client_for, marketing, ftp_source):
    client = api_client_for(marketing)
    url = f"/api/v1/intake/sources/{ftp_source.pk}/channel"
    client.put(url, {"ftp": {"host": "ftp.example.net", "password": "s3cret"}}, "application/json")

    cleared = client.put(url, {"ftp": {"clear_password": True}}, "application/json")

    assert cleared.status_code == 200
    assert cleared.json()["ftp"]["has_password"] is False
    assert ChannelSecret.objects.filter(source=ftp_source).count() == 0


def test_a_stored_password_never_follows_the_settings_to_another_host(
    api_client_for, marketing, ftp_source
):
    client = api_client_for(marketing)
    url = f"/api/v1/intake/sources/{ftp_source.pk}/channel"
    client.put(url, {"ftp": {"host": "ftp.example.net", "password": "s3cret"}}, "application/json")

    moved = client.put(url, {"ftp": {"host": "127.0.0.1", "password": ""}}, "application/json")

    ftp_source.refresh_from_db()
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["field"] == "ftp.password"
    assert ftp_source.field_mapping["ftp"]["host"] == "ftp.example.net"
    assert channel_secrets.connection_settings(ftp_source, "ftp")["password"] == "s3cret"


def test_the_api_answers_404_to_a_rep(api_client_for, rep, ftp_source):
    client = api_client_for(rep)

    response = client.get(f"/api/v1/intake/sources/{ftp_source.pk}/channel")

    assert response.status_code == 404


def test_test_connection_counts_the_feeds_entries(logged_in_client, marketing, httpserver, db):
    httpserver.expect_request("/leads.rss").respond_with_data(
        RSS, content_type="application/rss+xml"
    )
    source = make_source("Feed", kind=ChannelKind.RSS)
    client = logged_in_client(marketing)
    client.post(_page(client, source), {"feed.url": httpserver.url_for("/leads.rss")})

    response = client.post(reverse("intake:source-channel-test", args=[source.pk]), follow=True)

    assert "The feed was read: 2 entries." in response.text
    assert source.submissions.count() == 0


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # pyftpdlib uses asyncore
def test_test_connection_lists_the_ftp_folder_and_moves_nothing(
    logged_in_client, marketing, ftp_source, ftp_server
):
    ftp_server.put("leads-1.csv", b"email\nann@example.com\n")
    set_channel_settings(ftp_source, settings={"ftp": ftp_server.settings}, by=marketing)
    client = logged_in_client(marketing)

    response = client.post(reverse("intake:source-channel-test", args=[ftp_source.pk]), follow=True)

    assert "Connected: 1 files waiting in the folder." in response.text
    assert sorted(p.name for p in ftp_server.root.iterdir()) == ["leads-1.csv"]


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_test_connection_reports_a_wrong_password(marketing, ftp_source, ftp_server):
    set_channel_settings(
        ftp_source, settings={"ftp": {**ftp_server.settings, "password": "wrong"}}, by=marketing
    )
    from leadloop.intake.channels.settings import check_connection

    check = check_connection(ftp_source, by=marketing)

    assert check.ok is False
    assert check.message.startswith("Failed: ")
