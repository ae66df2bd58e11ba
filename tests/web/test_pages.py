"""The site shell: login, logout, language, time zone, navigation per role."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from leadloop.accounts.models import User
from tests.factories.leads import make_lead

LIST = reverse("leads:lead-list")


def test_pages_need_a_login(client, db):
    response = client.get(LIST)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('web:login')}?next={LIST}"


def test_logging_in_lands_on_the_home_page(client, rep):
    page = client.get(reverse("web:login"))

    response = client.post(reverse("web:login"), {"username": "rep", "password": "correct-horse-9"})

    assert page.status_code == 200
    assert 'autocomplete="current-password"' in page.text
    assert response.status_code == 302
    assert response["Location"] == reverse("web:home")


def test_a_wrong_password_says_so(client, rep):
    response = client.post(reverse("web:login"), {"username": "rep", "password": "nope"})

    assert response.status_code == 200
    assert "That user name and password do not match. Try again." in response.text


def test_logout_ends_the_session(logged_in_client, rep):
    client = logged_in_client(rep)

    response = client.post(reverse("web:logout"))

    assert response.status_code == 302
    assert client.get(LIST).status_code == 302


def test_switching_language_saves_it_on_the_user(logged_in_client, rep):
    client = logged_in_client(rep)

    response = client.post(reverse("set_language"), {"language": "nl", "next": LIST})

    assert response.status_code == 302
    assert response["Location"] == LIST
    assert User.objects.get(pk=rep.pk).language == "nl"
    assert response.cookies["django_language"].value == "nl"
    assert ">Leads zoeken<" in client.get(reverse("leads:organization-list")).text


def test_an_unknown_language_is_not_saved(logged_in_client, rep):
    client = logged_in_client(rep)

    client.post(reverse("set_language"), {"language": "xx", "next": LIST})

    assert User.objects.get(pk=rep.pk).language == ""


def test_the_saved_language_applies_at_the_next_login(client, rep):
    rep.language = "nl"
    rep.save(update_fields=["language"])
    client.force_login(rep)

    response = client.get(LIST)

    assert '<html lang="nl"' in response.text


def test_times_show_in_the_users_time_zone(logged_in_client, admin, source):
    with time_machine.travel(dt.datetime(2026, 1, 15, 8, 30, tzinfo=dt.UTC), tick=False):
        lead = make_lead(source)
    admin.time_zone = "America/New_York"
    admin.save(update_fields=["time_zone"])

    response = logged_in_client(admin).get(reverse("leads:lead-detail", args=[lead.pk]))

    assert ">15 Jan 2026, 03:30</time>" in response.text


def test_partners_do_not_see_company_configuration_in_the_nav(logged_in_client, partner_user):
    response = logged_in_client(partner_user).get(LIST)

    assert 'href="/leads/"' in response.text
    assert 'href="/organizations/"' not in response.text
    assert 'href="/sources/"' not in response.text
    assert 'href="/campaigns/"' not in response.text
    assert 'href="/api/v1/docs"' in response.text


def test_staff_see_the_whole_nav_with_the_current_section_marked(logged_in_client, marketing):
    response = logged_in_client(marketing).get(reverse("leads:source-list"))

    assert 'href="/organizations/"' in response.text
    assert 'href="/campaigns/"' in response.text
    assert 'href="/sources/" aria-current="page"' in response.text


def test_every_page_sends_the_csrf_token_with_htmx_and_loads_no_cdn(logged_in_client, rep):
    response = logged_in_client(rep).get(LIST)

    token = response.context["csrf_token"]
    assert f'hx-headers=\'{{"X-CSRFToken": "{token}"}}\'' in response.text
    assert 'src="/static/vendor/htmx.min.js"' in response.text
    assert 'src="/static/vendor/alpine.min.js"' in response.text
    assert "https://" not in response.text
    assert "http://" not in response.text.replace("xmlns='http://www.w3.org/2000/svg'", "")


def test_unknown_page_is_a_friendly_404(logged_in_client, rep):
    response = logged_in_client(rep).get("/leads/999999999/")

    assert response.status_code == 404
    assert "This page does not exist, or you may not see it." in response.text
