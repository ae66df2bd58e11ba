"""The API keys page: list, create (the key shown once) and revoke; an admin sees everyone's."""

import re

from django.urls import reverse

from leadloop.accounts.models import ApiKey
from leadloop.accounts.services import authenticate_api_key, create_api_key

PAGE = reverse("accounts:api-keys")
HTMX = {"HX-Request": "true"}


def test_the_user_menu_links_to_the_api_keys_page(logged_in_client, partner_user):
    response = logged_in_client(partner_user).get(reverse("leads:lead-list"))

    assert f'href="{PAGE}"' in response.text


def test_a_rep_sees_only_own_keys(logged_in_client, rep, teammate):
    create_api_key(rep, name="mine", by=rep)
    create_api_key(teammate, name="someone else's", by=teammate)

    response = logged_in_client(rep).get(PAGE)

    assert response.status_code == 200
    assert "mine" in response.text
    assert "someone else" not in response.text
    assert 'name="user"' not in response.text  # no "for whom" choice


def test_creating_a_key_shows_it_once_with_a_copy_button(logged_in_client, rep):
    client = logged_in_client(rep)

    response = client.post(PAGE, {"name": "CRM sync"}, headers=HTMX)
    again = client.get(PAGE)

    assert response.status_code == 201
    raw = re.search(r"llu_[A-Za-z0-9_-]{43}", response.text).group(0)
    assert authenticate_api_key(raw) == rep
    assert "Copy it now: it is shown only once" in response.text
    assert 'x-data="copyText"' in response.text
    assert raw not in again.text
    assert raw[:12] in again.text
    assert 'id="api-keys"' in response.text
    assert "<html" not in response.text


def test_an_empty_name_is_shown_next_to_the_field(logged_in_client, rep):
    response = logged_in_client(rep).post(PAGE, {"name": ""}, headers=HTMX)

    assert response.status_code == 422
    assert "field__errors" in response.text
    assert ApiKey.objects.count() == 0


def test_revoking_asks_first_and_then_the_key_stops_working(logged_in_client, rep):
    issued = create_api_key(rep, name="old script", by=rep)
    client = logged_in_client(rep)
    page = client.get(PAGE)
    url = reverse("accounts:api-key-revoke", args=[issued.key.pk])

    asked = client.get(url)
    unconfirmed = client.post(url)
    still_works = authenticate_api_key(issued.raw)
    response = client.post(url, {"confirm": "1"}, follow=True)

    assert f'href="{url}"' in page.text
    assert asked.status_code == unconfirmed.status_code == 200
    assert 'name="confirm" value="1"' in asked.text
    assert still_works == rep
    assert response.status_code == 200
    assert "no longer works" in response.text
    assert authenticate_api_key(issued.raw) is None


def test_a_rep_cannot_revoke_another_users_key_by_posting_its_id(logged_in_client, rep, teammate):
    theirs = create_api_key(teammate, name="theirs", by=teammate)

    response = logged_in_client(rep).post(
        reverse("accounts:api-key-revoke", args=[theirs.key.pk]), {"confirm": "1"}
    )

    assert response.status_code == 404
    assert authenticate_api_key(theirs.raw) == teammate


def test_a_rep_posting_a_user_field_still_gets_a_key_of_its_own(logged_in_client, rep, teammate):
    logged_in_client(rep).post(PAGE, {"name": "x", "user": teammate.pk})

    assert ApiKey.objects.get().user == rep


def test_an_admin_sees_everyones_keys_makes_one_for_a_rep_and_revokes_it(
    logged_in_client, admin, rep
):
    create_api_key(rep, name="rep's own", by=rep)
    client = logged_in_client(admin)

    listing = client.get(PAGE)
    made = client.post(PAGE, {"name": "for rep", "user": rep.pk}, headers=HTMX)
    key = ApiKey.objects.get(name="for rep")
    revoked = client.post(reverse("accounts:api-key-revoke", args=[key.pk]), {"confirm": "1"})

    assert "rep&#x27;s own" in listing.text or "rep's own" in listing.text
    assert "Everyone" in listing.text
    assert made.status_code == 201
    assert key.user == rep
    assert revoked.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_the_page_speaks_dutch(logged_in_client, rep):
    client = logged_in_client(rep)
    client.cookies["django_language"] = "nl"

    response = client.get(PAGE)

    assert "API-sleutels" in response.text
    assert "Nieuwe sleutel" in response.text
