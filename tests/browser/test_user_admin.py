"""Journey: an admin creates a user on the settings pages, in Dutch and in English, and the
one-time link shown lets the new user set a password and log in."""

import pytest

from leadloop.accounts.models import Role, User
from tests.factories.accounts import make_team, make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        (
            "nl",
            {
                "settings": "Instellingen",
                "users": "Gebruikers",
                "username": "Gebruikersnaam",
                "first_name": "Voornaam",
                "create": "Gebruiker aanmaken",
            },
        ),
        (
            "en",
            {
                "settings": "Settings",
                "users": "Users",
                "username": "User name",
                "first_name": "First name",
                "create": "Create user",
            },
        ),
    ],
)
def test_an_admin_creates_a_user_who_sets_a_password(page, live_server, log_in, language, labels):
    team = make_team("North")
    make_user(Role.ADMIN, username="ada", language=language)
    log_in(page, "ada")

    page.get_by_role("link", name=labels["settings"]).first.click()
    page.get_by_role("link", name=labels["users"], exact=True).click()
    page.get_by_label(labels["username"]).fill("nina")
    page.get_by_label(labels["first_name"]).fill("Nina")
    page.locator("#id_role").select_option(Role.SALES_REP)
    page.locator("#id_team").select_option(str(team.pk))
    page.get_by_role("button", name=labels["create"]).click()
    link = page.locator("code.secret").inner_text()

    user = User.objects.get(username="nina")
    assert (user.first_name, user.role, user.team_id) == ("Nina", Role.SALES_REP, team.pk)
    assert "/set-password/" in link

    page.context.clear_cookies()
    page.goto(link)
    page.locator("#id_password").fill("a-long-new-passphrase-42")
    page.locator("#id_password_again").fill("a-long-new-passphrase-42")
    page.locator("form button[type=submit]").click()
    log_in(page, "nina", "a-long-new-passphrase-42")
