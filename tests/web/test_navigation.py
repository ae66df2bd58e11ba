import re

import pytest

from leadloop.core import navigation
from leadloop.notifications.services import notify
from tests.factories.leads import make_lead

LINK = re.compile(r'<a class="sidenav__link( is-active)?" href="([^"]+)"')


def _menu(client, path):
    html = client.get(path).content.decode()
    nav = html[
        html.index('<ul class="sidenav__list">') : html.index('<div class="sidenav__footer">')
    ]
    return [(href, bool(active)) for active, href in LINK.findall(nav)]


def test_admin_sees_every_apps_entries_in_the_menus_order(logged_in_client, admin):
    client = logged_in_client(admin)

    menu = _menu(client, "/intake/imports/")

    assert menu == [
        ("/notifications/", False),
        ("/sales/my-day/", False),
        ("/leads/", False),
        ("/sales/team/", False),
        ("/sales/pipeline/", False),
        ("/analytics/", False),
        ("/organizations/", False),
        ("/sources/", False),
        ("/forms/", False),
        ("/campaigns/", False),
        ("/nurture/mail/", False),
        ("/nurture/workflows/", False),
        ("/nurture/surveys/", False),
        ("/nurture/calls/", False),
        ("/intake/", False),
        ("/intake/imports/", True),
        ("/distribution/", False),
        ("/distribution/partners/", False),
        ("/selling/", False),
        ("/assessment/review/", False),
        ("/assessment/duplicates/", False),
        ("/assessment/config/", False),
        ("/assessment/enrichment/", False),
        ("/assessment/models/", False),
        ("/privacy/", False),
        ("/audit/", False),
        ("/webhooks/", False),
        ("/settings/", False),
    ]


@pytest.mark.parametrize(
    ("role_fixture", "expected"),
    [
        ("partner_user", ["/notifications/", "/leads/", "/distribution/offers/", "/analytics/"]),
        ("agent", ["/notifications/", "/nurture/calls/desk/", "/leads/"]),
        (
            "rep",
            [
                "/notifications/",
                "/sales/my-day/",
                "/leads/",
                "/distribution/pool/",
                "/sales/pipeline/",
                "/analytics/",
                "/organizations/",
                "/sources/",
                "/campaigns/",
                "/assessment/review/",
                "/assessment/duplicates/",
            ],
        ),
        (
            "marketing",
            [
                "/notifications/",
                "/leads/",
                "/sales/pipeline/",
                "/analytics/",
                "/organizations/",
                "/sources/",
                "/forms/",
                "/campaigns/",
                "/nurture/mail/",
                "/nurture/workflows/",
                "/nurture/surveys/",
                "/nurture/calls/",
                "/intake/",
                "/intake/imports/",
                "/distribution/",
                "/distribution/partners/",
                "/selling/",
                "/assessment/review/",
                "/assessment/duplicates/",
                "/assessment/config/",
                "/assessment/enrichment/",
                "/assessment/models/",
                "/privacy/",
            ],
        ),
        (
            "manager",
            [
                "/notifications/",
                "/sales/my-day/",
                "/leads/",
                "/distribution/pool/",
                "/sales/team/",
                "/sales/pipeline/",
                "/analytics/",
                "/organizations/",
                "/sources/",
                "/campaigns/",
                "/distribution/",
                "/distribution/partners/",
                "/assessment/review/",
                "/assessment/duplicates/",
            ],
        ),
    ],
)
def test_a_role_sees_only_the_entries_registered_for_it(
    request, logged_in_client, role_fixture, expected
):
    client = logged_in_client(request.getfixturevalue(role_fixture))

    menu = _menu(client, "/leads/")

    assert [href for href, _active in menu] == expected


BADGE = re.compile(
    r'href="([^"]+)"[^>]*>.*?<span class="nav-badge">([^<]+)<span class="visually-hidden"> '
    r"([^<]+)</span>"
)


def _badges(client, path):
    html = client.get(path).content.decode()
    nav = html[
        html.index('<ul class="sidenav__list">') : html.index('<div class="sidenav__footer">')
    ]
    return [match for line in nav.splitlines() for match in BADGE.findall(line)]


def test_the_pipeline_entry_is_active_on_the_board_and_its_forecast(logged_in_client, rep):
    client = logged_in_client(rep)

    assert ("/sales/pipeline/", True) in _menu(client, "/sales/pipeline/")
    assert ("/sales/pipeline/", True) in _menu(client, "/sales/pipeline/forecast/")


def test_each_badge_says_what_it_counts_to_a_screen_reader(logged_in_client, manager, team, source):
    for name in ("Ann", "Bob"):
        notify([manager], kind="test", title="%(lead)s", params={"lead": name})
    make_lead(source, team=team)

    badges = _badges(logged_in_client(manager), "/leads/")

    assert badges == [("/notifications/", "2", "unread"), ("/distribution/pool/", "1", "waiting")]


def test_an_entry_without_its_own_badge_label_keeps_to_review():
    entry = navigation.NavEntry(1, "Review", "web:home", "intake", "/", navigation.everyone, "x")

    assert str(entry.badge_label) == "to review"


@pytest.mark.parametrize(
    ("role_fixture", "shown"),
    [
        ("rep", True),
        ("manager", True),
        ("admin", True),
        ("marketing", False),
        ("partner_user", False),
    ],
)
def test_my_day_is_in_the_menu_of_those_who_follow_up_leads(
    request, logged_in_client, role_fixture, shown
):
    client = logged_in_client(request.getfixturevalue(role_fixture))

    menu = _menu(client, "/leads/")

    assert ("/sales/my-day/", False) in menu if shown else "/sales/my-day/" not in dict(menu)


def test_my_day_is_marked_active_on_its_page(logged_in_client, rep):
    menu = _menu(logged_in_client(rep), "/sales/my-day/")

    assert [href for href, active in menu if active] == ["/sales/my-day/"]
