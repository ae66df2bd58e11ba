"""A partner user sees only the lead fields their organisation's list shows: on the lead page,
in the list and its search, through the API and in exports. Staff see everything.
Issue 13, item 5."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role, User
from leadloop.leads import selectors, services
from leadloop.leads.models import Activity, ActivityKind, Lead
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead

pytestmark = pytest.mark.django_db

PHONE = "+31612345678"
HOSTILE = '<script>alert("x")</script>'
# Contact details and the address, without phone, origin, grade, scores or findings.
SHOWN = ["name", "email", "company", "city", "country", "revenue", "extra"]


@pytest.fixture
def narrow_partner(partner_org):
    return accounts_services.change_partner(
        partner_org, by=SYSTEM, name=partner_org.name, is_active=True, visible_fields=SHOWN
    )


@pytest.fixture
def lead(source, narrow_partner):
    return make_lead(
        source,
        partner=narrow_partner,
        first_name="Anna",
        last_name="Jansen",
        email="anna@example.com",
        phone=PHONE,
        company_name=HOSTILE,
        city="Utrecht",
        street="Secretstraat",
        utm_source="newsletter-spring",
        extra={"product": "heat pump"},
    )


def _json(response):
    assert response.status_code == 200, response.content
    return response.json()


# --- The lead page -------------------------------------------------------------------------------


def test_the_lead_page_shows_a_partner_only_the_fields_its_list_shows(
    logged_in_client, partner_user, lead
):
    page = logged_in_client(partner_user).get(reverse("leads:lead-detail", args=[lead.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "anna@example.com" in html
    assert "Utrecht" in html
    assert "heat pump" in html
    assert "612345678" not in html
    assert "Secretstraat" not in html
    assert "newsletter-spring" not in html
    assert "Website" not in html  # the source
    assert "Why this lead scores as it does" not in html
    assert "Show original" not in html


def test_a_hostile_value_in_a_shown_field_is_escaped(logged_in_client, partner_user, lead):
    page = logged_in_client(partner_user).get(reverse("leads:lead-detail", args=[lead.pk]))

    html = page.content.decode()
    assert HOSTILE not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_staff_see_every_field_of_a_partners_lead(logged_in_client, admin, lead):
    page = logged_in_client(admin).get(reverse("leads:lead-detail", args=[lead.pk]))

    html = page.content.decode()
    assert "612345678" in html
    assert "Secretstraat" in html
    assert "newsletter-spring" in html
    assert "Why this lead scores as it does" in html


def test_the_timeline_leaves_out_hidden_changes_and_staff_notes(
    logged_in_client, partner_user, admin, lead
):
    services.update_lead(
        Lead.objects.get(pk=lead.pk), {"phone": "+31687654321", "city": "Gouda"}, by=admin
    )
    services.log_activity(lead, kind=ActivityKind.NOTE, message="Internal: cheap one", by=admin)

    page = logged_in_client(partner_user).get(reverse("leads:lead-detail", args=[lead.pk]))

    html = page.content.decode()
    assert "Gouda" in html
    assert "687654321" not in html
    assert "Internal: cheap one" not in html


def test_the_original_is_not_shown_when_the_list_leaves_it_out(
    logged_in_client, partner_user, lead
):
    response = logged_in_client(partner_user).get(reverse("intake:lead-original", args=[lead.pk]))

    assert response.status_code == 404


# --- The list and its search ---------------------------------------------------------------------


def test_the_list_leaves_out_hidden_columns(logged_in_client, partner_user, lead):
    page = logged_in_client(partner_user).get(reverse("leads:lead-list"))

    html = page.content.decode()
    assert "Anna Jansen" in html
    assert "col-source" not in html
    assert "col-grade" not in html
    assert "Website" not in html


def test_searching_a_hidden_phone_number_finds_nothing(logged_in_client, partner_user, lead):
    client = logged_in_client(partner_user)

    by_phone = client.get(reverse("leads:lead-list"), {"q": "0612345678"})
    by_name = client.get(reverse("leads:lead-list"), {"q": "jansen"})

    assert "Anna Jansen" not in by_phone.content.decode()
    assert "Anna Jansen" in by_name.content.decode()


def test_staff_find_the_lead_by_its_phone_number(logged_in_client, admin, lead):
    page = logged_in_client(admin).get(reverse("leads:lead-list"), {"q": "0612345678"})

    assert "Anna Jansen" in page.content.decode()


# --- The API -------------------------------------------------------------------------------------


def test_the_api_answers_null_for_hidden_fields(api_client_for, partner_user, lead):
    client = api_client_for(partner_user)

    one = _json(client.get(f"/api/v1/leads/{lead.pk}"))
    listed = _json(client.get("/api/v1/leads"))["items"]

    for body in (one, listed[0]):
        assert body["email"] == "anna@example.com"
        assert body["city"] == "Utrecht"
        assert body["phone"] is None
        assert body["phone_e164"] is None
        assert body["street"] is None
        assert body["source"] is None
        assert body["utm_source"] is None
        assert body["engagement_score"] is None
        assert body["fit_grade"] is None
        assert "phone" in body["hidden_fields"]
        assert "source" in body["hidden_fields"]
        assert "email" not in body["hidden_fields"]


def test_the_api_gives_staff_every_field(api_client_for, admin, lead):
    body = _json(api_client_for(admin).get(f"/api/v1/leads/{lead.pk}"))

    assert body["phone_e164"] == PHONE
    assert body["street"] == "Secretstraat"
    assert body["source"]["name"] == "Website"
    assert body["hidden_fields"] == []


def test_the_api_search_and_filters_do_not_reveal_hidden_fields(
    api_client_for, partner_user, lead, source
):
    client = api_client_for(partner_user)

    by_phone = _json(client.get("/api/v1/leads", {"q": "0612345678"}))
    by_source = client.get("/api/v1/leads", {"source": source.pk})
    by_priority = client.get("/api/v1/leads", {"sort": "-priority"})

    assert by_phone["items"] == []
    assert by_source.status_code == 422
    assert by_source.headers["Content-Type"] == "application/problem+json"
    assert by_priority.status_code == 422


def test_the_api_timeline_leaves_out_hidden_changes(api_client_for, partner_user, admin, lead):
    services.update_lead(Lead.objects.get(pk=lead.pk), {"phone": "+31687654321"}, by=admin)

    entries = _json(api_client_for(partner_user).get(f"/api/v1/leads/{lead.pk}/timeline"))

    assert [e["kind"] for e in entries if e["kind"] == ActivityKind.FIELD_CHANGED] == []
    assert "687654321" not in str(entries)


def test_the_assessment_api_is_closed_when_findings_are_hidden(
    api_client_for, partner_user, admin, lead
):
    partner = api_client_for(partner_user).get(f"/api/v1/assessment/leads/{lead.pk}")
    staff = api_client_for(admin).get(f"/api/v1/assessment/leads/{lead.pk}")

    assert partner.status_code == 404
    assert staff.status_code == 200


def test_a_partner_cannot_overwrite_a_field_it_cannot_see(api_client_for, partner_user, lead):
    response = api_client_for(partner_user).patch(
        f"/api/v1/leads/{lead.pk}", {"phone": "+31600000000"}, content_type="application/json"
    )

    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).phone_e164 == PHONE
    assert not Activity.objects.filter(lead=lead, kind=ActivityKind.FIELD_CHANGED).exists()


def test_the_partners_list_costs_the_same_queries_for_more_leads(
    api_client_for, partner_user, narrow_partner, source, lead
):
    client = api_client_for(partner_user)
    client.get("/api/v1/leads")  # warm the caches (rules, defaults)

    with CaptureQueriesContext(connection) as one:
        client.get("/api/v1/leads")
    for n in range(3):
        make_lead(source, partner=narrow_partner, email=f"more{n}@example.com")
    with CaptureQueriesContext(connection) as four:
        client.get("/api/v1/leads")

    assert len(four.captured_queries) == len(one.captured_queries)


# --- Exports -------------------------------------------------------------------------------------


def _csv(response):
    return b"".join(response.streaming_content).decode("utf-8-sig")


def test_the_export_leaves_out_hidden_columns(logged_in_client, partner_user, lead):
    response = logged_in_client(partner_user).get(
        reverse("leads:lead-export", args=["csv"]), {"delimiter": "comma"}
    )

    text = _csv(response)
    header = text.splitlines()[0]
    assert '"E-mail"' in header
    assert '"Phone"' not in header
    assert '"Source"' not in header
    assert '"Fit grade"' not in header
    assert "anna@example.com" in text
    assert "612345678" not in text
    assert "newsletter-spring" not in text


def test_the_staff_export_keeps_every_column(logged_in_client, admin, lead):
    response = logged_in_client(admin).get(
        reverse("leads:lead-export", args=["csv"]), {"delimiter": "comma"}
    )

    text = _csv(response)
    assert '"Phone"' in text.splitlines()[0]
    assert PHONE in text


# --- A row read for a partner ---------------------------------------------------------------------


def test_a_row_read_with_hidden_fields_cannot_be_saved(partner_user, lead):
    reader = User.objects.get(pk=partner_user.pk)  # with the organisation's list as stored

    seen = selectors.get_lead_for(reader, lead.pk)

    with pytest.raises(ValueError, match="hidden fields"):
        seen.save()
    assert seen.phone_e164 == ""
    assert Lead.objects.get(pk=lead.pk).phone_e164 == PHONE


def test_a_partner_with_the_default_list_sees_the_phone(source, partner_org):
    user = make_user(Role.PARTNER, partner=partner_org)
    lead = make_lead(source, partner=partner_org, phone=PHONE)

    seen = selectors.get_lead_for(user, lead.pk)

    assert seen.phone_e164 == PHONE
    assert not seen.shown.shows("source")
