"""The deployment's defaults: admins change them (audited), new users and leads use them."""

import pytest
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from leadloop.accounts import services
from leadloop.accounts.defaults import change_defaults, from_environment, get_defaults
from leadloop.accounts.models import AuditAction, AuditEvent, AuditTarget, DeploymentDefaults
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads.services.validation import clean_lead_input
from leadloop.web.middleware import UserPreferencesMiddleware

DEFAULTS = reverse("accounts:defaults")


def test_without_a_saved_row_the_defaults_come_from_the_environment(db, settings):
    settings.LEADLOOP_DEFAULT_COUNTRY = "de"
    settings.LEADLOOP_DEFAULT_CURRENCY = "chf"

    values = get_defaults()

    assert (values.country, values.currency) == ("DE", "CHF")
    assert values == from_environment()


def test_an_admin_changes_the_defaults_with_before_and_after_in_the_audit_log(admin):
    before = from_environment()

    after = change_defaults(by=admin, country="be", currency="usd", time_zone="Europe/Brussels")

    assert (after.country, after.currency, after.time_zone) == ("BE", "USD", "Europe/Brussels")
    assert get_defaults() == after
    event = AuditEvent.objects.get(target_type=AuditTarget.DEFAULTS)
    assert event.action == AuditAction.SETTING_CHANGED
    assert event.actor_id == admin.pk
    assert event.data == {
        "country": {"before": before.country, "after": "BE"},
        "currency": {"before": before.currency, "after": "USD"},
        "time_zone": {"before": before.time_zone, "after": "Europe/Brussels"},
    }


def test_saving_the_same_defaults_writes_nothing(admin):
    current = get_defaults()

    change_defaults(by=admin, country=current.country)

    assert not DeploymentDefaults.objects.exists()
    assert not AuditEvent.objects.filter(target_type=AuditTarget.DEFAULTS).exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [("country", "XX"), ("currency", "EURO"), ("time_zone", "Mars/Olympus"), ("language", "fr")],
)
def test_unknown_codes_are_refused_by_field(admin, field, value):
    with pytest.raises(ValidationFailed) as caught:
        change_defaults(by=admin, **{field: value})

    assert list(caught.value.errors) == [field]
    assert not DeploymentDefaults.objects.exists()


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
def test_only_admins_change_the_defaults(request, who):
    with pytest.raises(NotAllowed):
        change_defaults(by=request.getfixturevalue(who), country="BE")

    assert not DeploymentDefaults.objects.exists()
    assert not AuditEvent.objects.filter(target_type=AuditTarget.DEFAULTS).exists()


def test_users_an_admin_adds_get_the_deployment_language_and_time_zone(admin):
    change_defaults(by=admin, language="nl", time_zone="Europe/Brussels")

    user = services.add_user(by=admin, username="nieuw", role="sales_rep")

    assert (user.language, user.time_zone) == ("nl", "Europe/Brussels")


def test_leads_read_phones_and_amounts_with_the_deployment_country_and_currency(admin):
    change_defaults(by=admin, country="BE", currency="USD")

    values = clean_lead_input({"phone": "02 555 12 34", "currency": ""}, default_region="")

    assert values["phone_e164"] == "+3225551234"
    assert values["currency"] == "USD"


@pytest.mark.parametrize(("own", "seen"), [("", "America/New_York"), ("Asia/Tokyo", "Asia/Tokyo")])
def test_a_request_uses_the_users_zone_else_the_deployments(rf, admin, rep, own, seen):
    change_defaults(by=admin, time_zone="America/New_York")
    rep.time_zone = own
    request = rf.get("/")
    request.user = rep
    zones = []

    def view(_request):
        zones.append(timezone.get_current_timezone_name())
        return HttpResponse()

    UserPreferencesMiddleware(view)(request)

    assert zones == [seen]


def test_the_defaults_page_saves_and_shows_the_new_values(logged_in_client, admin):
    client = logged_in_client(admin)
    form = {"language": "nl", "country": "BE", "currency": "EUR", "time_zone": "Europe/Brussels"}

    response = client.post(DEFAULTS, form, follow=True)

    assert response.status_code == 200
    assert get_defaults().country == "BE"
    assert 'value="BE" selected' in response.text


def test_the_defaults_page_shows_a_refused_value_next_to_its_field(logged_in_client, admin):
    form = {"language": "en", "country": "ZZ", "currency": "EUR", "time_zone": "Europe/Amsterdam"}

    response = logged_in_client(admin).post(DEFAULTS, form)

    assert response.status_code == 422
    assert not DeploymentDefaults.objects.exists()


@pytest.mark.parametrize("who", ["marketing", "manager", "rep", "partner_user"])
def test_other_roles_cannot_open_or_post_the_defaults_page(request, logged_in_client, who):
    client = logged_in_client(request.getfixturevalue(who))

    assert client.get(DEFAULTS).status_code == 403
    assert client.post(DEFAULTS, {"country": "BE"}).status_code == 403
    assert not DeploymentDefaults.objects.exists()


def test_a_browser_that_names_no_language_gets_the_deployments(client, admin):
    change_defaults(by=admin, language="nl")

    unspecified = client.get(reverse("web:login"))
    english = client.get(reverse("web:login"), headers={"Accept-Language": "en"})

    assert '<html lang="nl">' in unspecified.text
    assert '<html lang="en">' in english.text
