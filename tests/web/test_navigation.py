import re

import pytest

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
        ("/leads/", False),
        ("/organizations/", False),
        ("/sources/", False),
        ("/forms/", False),
        ("/campaigns/", False),
        ("/intake/", False),
        ("/intake/imports/", True),
        ("/distribution/", False),
        ("/distribution/partners/", False),
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
        ("partner_user", ["/notifications/", "/leads/", "/distribution/offers/"]),
        (
            "manager",
            [
                "/notifications/",
                "/leads/",
                "/distribution/pool/",
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
