"""Journey: an admin changes the deployment's defaults, makes an API key for an integration user
and revokes it, and deactivates a user, each through a confirmation page, in Dutch and English."""

import pytest

from leadloop.accounts.defaults import get_defaults, invalidate
from leadloop.accounts.models import ApiKey, Role, User
from tests.factories.accounts import make_user

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LABELS = {
    "nl": {
        "settings": "Instellingen",
        "defaults": "Standaardinstellingen",
        "save": "Opslaan",
        "keys": "API-sleutels",
        "name": "Naam",
        "create": "Sleutel aanmaken",
        "revoke": "Intrekken",
        "users": "Gebruikers",
        "deactivate": "Deactiveren",
    },
    "en": {
        "settings": "Settings",
        "defaults": "Deployment defaults",
        "save": "Save",
        "keys": "API keys",
        "name": "Name",
        "create": "Create key",
        "revoke": "Revoke",
        "users": "Users",
        "deactivate": "Deactivate",
    },
}


@pytest.mark.parametrize("language", ["nl", "en"])
def test_an_admin_sets_defaults_and_manages_keys_and_users(page, live_server, log_in, language):
    labels = LABELS[language]
    make_user(Role.ADMIN, username="ada", language=language)
    integration = make_user(Role.SALES_REP, username="crm-sync")
    leaver = make_user(Role.SALES_REP, username="leaver")
    log_in(page, "ada")
    settings_url = f"{live_server.url}/settings/"

    page.goto(settings_url)
    page.get_by_role("main").get_by_role("link", name=labels["defaults"]).click()
    page.locator("#id_country").select_option("BE")
    page.locator("#id_time_zone").select_option("Europe/Brussels")
    page.get_by_role("button", name=labels["save"]).click()
    page.wait_for_url("**/settings/defaults/")
    invalidate()
    assert (get_defaults().country, get_defaults().time_zone) == ("BE", "Europe/Brussels")

    page.goto(settings_url)
    page.get_by_role("main").get_by_role("link", name=labels["keys"], exact=True).click()
    page.get_by_label(labels["name"]).fill("CRM sync")
    page.locator("#id_user").select_option(str(integration.pk))
    page.get_by_role("button", name=labels["create"]).click()
    assert page.locator("code.secret").inner_text().startswith("llu_")
    key = ApiKey.objects.get(name="CRM sync")
    assert key.user_id == integration.pk

    page.get_by_role("link", name=labels["revoke"]).click()
    assert key.prefix in page.locator("h1").inner_text()
    page.get_by_role("button", name=labels["revoke"]).click()
    page.wait_for_url("**/settings/api-keys/")
    key.refresh_from_db()
    assert key.revoked_at is not None

    page.goto(settings_url)
    page.get_by_role("main").get_by_role("link", name=labels["users"], exact=True).click()
    page.get_by_role("row", name="leaver").get_by_role("button", name=labels["deactivate"]).click()
    assert "leaver" in page.locator("h1").inner_text()
    assert User.objects.get(pk=leaver.pk).is_active
    page.get_by_role("button", name=labels["deactivate"]).click()
    page.wait_for_url("**/settings/users/")
    assert not User.objects.get(pk=leaver.pk).is_active
