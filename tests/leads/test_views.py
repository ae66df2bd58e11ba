"""The lead pages through the test client: what each role sees and what each action writes."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.leads import services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from tests.factories.leads import make_lead, make_organization
from tests.leads.pages import HTMX

# --- Detail --------------------------------------------------------------------------------------


def test_detail_shows_grouped_fields_and_the_timeline(logged_in_client, source, admin):
    org = make_organization("Holding BV")
    lead = make_lead(
        source,
        first_name="Ann",
        last_name="Smit",
        email="ann@example.com",
        organization_id=org.pk,
        utm_source="newsletter",
        extra={"newsletter": True},
    )

    response = logged_in_client(admin).get(reverse("leads:lead-detail", args=[lead.pk]))

    assert response.status_code == 200
    for title in ("Person", "Company", "Address", "Origin & UTM", "Consent", "Extra fields"):
        assert f">{title}</h2>" in response.text
    assert 'href="mailto:ann@example.com"' in response.text
    assert "Holding BV" in response.text
    assert "newsletter" in response.text
    assert "From Website" in response.text


def test_call_and_mail_buttons_come_before_the_actions_and_the_timeline(
    logged_in_client, source, rep
):
    lead = make_lead(source, assigned_to=rep, email="ann@example.com", phone="06 12345678")

    response = logged_in_client(rep).get(reverse("leads:lead-detail", args=[lead.pk]))

    text = response.text
    call = text.index('href="tel:+31612345678"')
    mail = text.index('href="mailto:ann@example.com"')
    assert call < text.index('id="actions-title"')
    assert mail < text.index('id="actions-title"')
    assert text.index('id="actions-title"') < text.index('id="timeline-title"')


@pytest.mark.parametrize("role", ["rep", "other_rep", "partner_user", "other_partner_user"])
def test_a_lead_outside_ones_scope_is_404(request, logged_in_client, source, manager, role):
    lead = make_lead(source, assigned_to=manager)
    user = request.getfixturevalue(role)

    response = logged_in_client(user).get(reverse("leads:lead-detail", args=[lead.pk]))

    assert response.status_code == 404


def test_status_change_writes_the_timeline_and_rerenders(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep)

    response = logged_in_client(rep).post(
        reverse("leads:lead-transition", args=[lead.pk]), {"to": "contacted"}, headers=HTMX
    )

    assert response.status_code == 200
    assert 'id="lead-detail"' in response.text
    assert "Status changed to Contacted." in response.text
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.CONTACTED
    change = lead.activities.get(kind=ActivityKind.STATUS_CHANGED, data__to="contacted")
    assert change.actor_user == rep


def test_status_change_without_htmx_redirects_back(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep)

    response = logged_in_client(rep).post(
        reverse("leads:lead-transition", args=[lead.pk]), {"to": "contacted"}
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])


def test_lost_without_a_reason_shows_the_error_and_changes_nothing(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep)
    before = Activity.objects.filter(lead=lead).count()

    response = logged_in_client(rep).post(
        reverse("leads:lead-transition", args=[lead.pk]), {"to": "lost"}, headers=HTMX
    )

    assert response.status_code == 422
    assert "Say why the lead was lost." in response.text
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.ASSIGNED
    assert Activity.objects.filter(lead=lead).count() == before


def test_won_records_the_order_value(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep)
    services.transition(lead, to=LeadStatus.CONTACTED, by=SYSTEM)

    logged_in_client(rep).post(
        reverse("leads:lead-transition", args=[lead.pk]), {"to": "won", "order_value": "1250.50"}
    )

    lead.refresh_from_db()
    assert (lead.status, lead.order_value) == (LeadStatus.WON, Decimal("1250.50"))


def test_a_move_the_lifecycle_forbids_shows_an_error(logged_in_client, source, admin):
    lead = make_lead(source)

    response = logged_in_client(admin).post(
        reverse("leads:lead-transition", args=[lead.pk]), {"to": "won"}, headers=HTMX
    )

    assert response.status_code == 409
    assert "A lead cannot move from Nurturing to Won." in response.text
    assert Lead.objects.get(pk=lead.pk).status == LeadStatus.NURTURING


def test_denied_post_on_an_invisible_lead_changes_nothing(logged_in_client, source, rep, other_rep):
    lead = make_lead(source, assigned_to=other_rep)
    before = Activity.objects.count()
    client = logged_in_client(rep)

    responses = [
        client.post(reverse("leads:lead-transition", args=[lead.pk]), {"to": "contacted"}),
        client.post(reverse("leads:lead-assign", args=[lead.pk]), {"assignee": f"user:{rep.pk}"}),
        client.post(
            reverse("leads:lead-log-activity", args=[lead.pk]), {"kind": "note", "message": "x"}
        ),
        client.post(reverse("leads:lead-edit", args=[lead.pk]), {"first_name": "Hacked"}),
    ]

    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    lead.refresh_from_db()
    assert (lead.status, lead.assigned_to_id, lead.first_name) == (
        LeadStatus.ASSIGNED,
        other_rep.pk,
        lead.first_name,
    )
    assert lead.first_name != "Hacked"
    assert Activity.objects.count() == before


def test_partner_cannot_reassign_and_nothing_is_written(
    logged_in_client, source, partner_user, partner_org, rep
):
    lead = make_lead(source, partner=partner_org)
    before = Activity.objects.count()

    response = logged_in_client(partner_user).post(
        reverse("leads:lead-assign", args=[lead.pk]), {"assignee": f"user:{rep.pk}"}
    )

    assert response.status_code == 403
    assert Lead.objects.get(pk=lead.pk).assigned_to_id is None
    assert Activity.objects.count() == before


def test_partner_sees_only_partner_moves(logged_in_client, source, partner_user, partner_org):
    lead = make_lead(source, partner=partner_org)

    response = logged_in_client(partner_user).get(reverse("leads:lead-detail", args=[lead.pk]))

    buttons = re.findall(r'name="to" value="(\w+)"', response.text)
    assert buttons == ["contacted", "lost"]
    assert f'action="/leads/{lead.pk}/assign/"' not in response.text


def test_assign_to_a_team_pool(logged_in_client, source, admin, team):
    lead = make_lead(source)

    logged_in_client(admin).post(
        reverse("leads:lead-assign", args=[lead.pk]), {"assignee": f"team:{team.pk}"}
    )

    lead.refresh_from_db()
    assert (lead.team_id, lead.assigned_to_id) == (team.pk, None)
    assert lead.activities.filter(kind=ActivityKind.ASSIGNED).count() == 1


def test_logging_a_call_adds_it_to_the_timeline(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep)

    response = logged_in_client(rep).post(
        reverse("leads:lead-log-activity", args=[lead.pk]),
        {"kind": "call", "message": "Called, wants a quote"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "Called, wants a quote" in response.text
    call = lead.activities.get(kind=ActivityKind.CALL)
    assert (call.message, call.actor_user) == ("Called, wants a quote", rep)


def test_an_empty_activity_message_is_a_field_error(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep)
    before = Activity.objects.count()

    response = logged_in_client(rep).post(
        reverse("leads:lead-log-activity", args=[lead.pk]), {"kind": "note", "message": ""}
    )

    assert response.status_code == 422
    assert 'id="id_message_errors"' in response.text
    assert Activity.objects.count() == before


# --- Create and edit -----------------------------------------------------------------------------


def test_create_with_an_invalid_email_shows_the_field_error_and_saves_nothing(
    logged_in_client, source, admin
):
    response = logged_in_client(admin).post(
        reverse("leads:lead-create"),
        {"source": source.pk, "first_name": "Ann", "email": "not-an-address", "currency": "EUR"},
    )

    assert response.status_code == 422
    assert 'id="id_email_errors"' in response.text
    assert 'aria-invalid="true"' in response.text
    assert Lead.objects.count() == 0
    assert Activity.objects.count() == 0


def test_create_with_an_invalid_phone_shows_the_field_error(logged_in_client, source, admin):
    response = logged_in_client(admin).post(
        reverse("leads:lead-create"), {"source": source.pk, "first_name": "Ann", "phone": "12"}
    )

    assert response.status_code == 422
    assert 'id="id_phone_errors"' in response.text
    assert Lead.objects.count() == 0


def test_create_saves_the_lead_and_a_rep_owns_it(logged_in_client, source, rep):
    response = logged_in_client(rep).post(
        reverse("leads:lead-create"),
        {
            "source": source.pk,
            "first_name": "Ann",
            "last_name": "Smit",
            "email": "Ann@Example.com",
            "phone": "06 12345678",
            "potential_revenue": "1000",
            "probability": "50",
            "extra_key": ["size", ""],
            "extra_value": ["large", ""],
        },
    )

    lead = Lead.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("leads:lead-detail", args=[lead.pk])
    assert (lead.email, lead.phone_e164, lead.assigned_to_id) == (
        "Ann@example.com",
        "+31612345678",
        rep.pk,
    )
    assert (lead.potential_revenue, lead.probability, lead.extra) == (
        Decimal("1000.00"),
        50,
        {"size": "large"},
    )


def test_partner_cannot_open_the_create_page(logged_in_client, partner_user):
    response = logged_in_client(partner_user).get(reverse("leads:lead-create"))

    assert response.status_code == 403


def test_edit_writes_only_changed_fields_to_the_timeline(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep, first_name="Ann", email="ann@example.com")
    page = logged_in_client(rep).get(reverse("leads:lead-edit", args=[lead.pk]))
    form = dict(re.findall(r'<input type="[^"]+" name="(\w+)" value="([^"]*)"', page.text))

    response = logged_in_client(rep).post(
        reverse("leads:lead-edit", args=[lead.pk]), {**form, "email": "bob@example.com"}
    )

    assert response.status_code == 302
    change = lead.activities.get(kind=ActivityKind.FIELD_CHANGED)
    assert change.data == {
        "changes": [{"field": "email", "old": "ann@example.com", "new": "bob@example.com"}]
    }
    detail = logged_in_client(rep).get(reverse("leads:lead-detail", args=[lead.pk]))
    assert "E-mail: ann@example.com → bob@example.com" in detail.text


def test_extra_fields_are_typed_as_rows_and_a_nameless_or_repeated_name_is_refused(
    logged_in_client, source, rep
):
    response = logged_in_client(rep).post(
        reverse("leads:lead-create"),
        {
            "source": source.pk,
            "last_name": "Smit",
            "extra_key": ["size", "", "size"],
            "extra_value": ["large", "orphan", "small"],
        },
    )

    assert response.status_code == 422
    assert Lead.objects.count() == 0
    assert "Give the value “orphan” a name." in response.text
    assert "The name “size” is used twice." in response.text
    assert 'name="extra_key" value="size"' in response.text
    assert 'name="extra_value" value="orphan"' in response.text


def test_editing_extra_rows_keeps_untouched_values_and_their_type(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep, last_name="Smit", extra={"vip": True, "size": "L"})
    page = logged_in_client(rep).get(reverse("leads:lead-edit", args=[lead.pk]))
    assert 'name="extra_key" value="vip"' in page.text
    assert 'name="extra_value" value="true"' in page.text

    response = logged_in_client(rep).post(
        reverse("leads:lead-edit", args=[lead.pk]),
        {
            "last_name": "Smit",
            "extra_key": ["size", "vip", "colour"],
            "extra_value": ["XL", "true", "red"],
        },
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.extra == {"vip": True, "size": "XL", "colour": "red"}


def test_removing_every_extra_row_empties_the_extra_fields(logged_in_client, source, rep):
    lead = make_lead(source, assigned_to=rep, last_name="Smit", extra={"vip": True})

    response = logged_in_client(rep).post(
        reverse("leads:lead-edit", args=[lead.pk]),
        {"last_name": "Smit", "extra_key": [""], "extra_value": [""]},
    )

    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.extra == {}


# --- Organisations, sources, campaigns ------------------------------------------------------------


def test_organization_page_rolls_up_the_whole_tree(logged_in_client, source, admin):
    holding = make_organization("Holding")
    branch = make_organization("Branch", parent=holding)
    leaf = make_organization("Leaf", parent=branch)
    make_lead(source, organization_id=holding.pk)
    make_lead(source, organization_id=leaf.pk)
    make_lead(source, organization_id=make_organization("Elsewhere").pk)

    response = logged_in_client(admin).get(reverse("leads:organization-detail", args=[holding.pk]))
    leaf_page = logged_in_client(admin).get(reverse("leads:organization-detail", args=[leaf.pk]))

    assert "2 leads in this tree" in response.text
    assert f'data-depth="0"><a href="/organizations/{branch.pk}/">Branch</a>' in response.text
    assert f'data-depth="1"><a href="/organizations/{leaf.pk}/">Leaf</a>' in response.text
    assert f'<a href="/organizations/{holding.pk}/">Holding</a>' in leaf_page.text


def test_staff_add_a_branch_partners_get_404(
    logged_in_client, admin, partner_user, django_user_model
):
    holding = make_organization("Holding")
    url = reverse("leads:organization-detail", args=[holding.pk])

    added = logged_in_client(admin).post(url, {"name": "Rotterdam"})
    denied = logged_in_client(partner_user).post(url, {"name": "Sneaky"})

    assert added.status_code == 302
    assert [c.name for c in holding.children.all()] == ["Rotterdam"]
    assert denied.status_code == 404


def test_organization_search(logged_in_client, admin):
    make_organization("Acme Holding")
    make_organization("Bakery")

    response = logged_in_client(admin).get(reverse("leads:organization-list"), {"q": "acme"})

    assert "Acme Holding" in response.text
    assert "Bakery" not in response.text


def test_new_source_shows_its_key_once(logged_in_client, marketing):
    client = logged_in_client(marketing)

    response = client.post(reverse("leads:source-list"), {"name": "Fair", "kind": "import"})
    later = client.get(reverse("leads:source-list"))

    key = re.search(r'<code class="secret">(lls_[^<]+)</code>', response.text).group(1)
    assert response.status_code == 201
    assert services.resolve_source_key(key).name == "Fair"
    assert key not in later.text


def test_rep_cannot_create_sources(logged_in_client, rep):
    response = logged_in_client(rep).post(
        reverse("leads:source-list"), {"name": "Fair", "kind": "import"}
    )

    assert response.status_code == 403
    assert not services.resolve_source_key("lls_x")


def test_revoking_a_key_stops_it(logged_in_client, marketing):
    created = services.create_source(name="Feed", kind="rss", by=SYSTEM)

    logged_in_client(marketing).post(reverse("leads:source-revoke-key", args=[created.source.pk]))

    created.source.refresh_from_db()
    assert created.source.has_active_key is False


def test_marketing_creates_a_campaign(logged_in_client, marketing, source):
    response = logged_in_client(marketing).post(
        reverse("leads:campaign-list"),
        {"source": source.pk, "name": "Spring", "budget_amount": "5000", "currency": "EUR"},
    )

    assert response.status_code == 302
    campaign = source.campaigns.get()
    assert (campaign.name, campaign.budget_amount) == ("Spring", Decimal("5000.00"))


def test_campaign_ending_before_it_starts_is_a_field_error(logged_in_client, marketing, source):
    response = logged_in_client(marketing).post(
        reverse("leads:campaign-list"),
        {
            "source": source.pk,
            "name": "Backwards",
            "starts_on": "2026-05-01",
            "ends_on": "2026-04-01",
            "currency": "EUR",
        },
    )

    assert response.status_code == 422
    assert 'id="id_ends_on_errors"' in response.text
    assert source.campaigns.count() == 0


@pytest.mark.parametrize(("language", "word"), [("en", "to"), ("nl", "naar")])
def test_a_status_change_reads_as_old_arrow_new(logged_in_client, source, admin, language, word):
    """Copied or read aloud, a change says "New → Assigned" or "New to Assigned": the arrow
    carries the word for screen readers instead of a hidden "to" beside it."""
    lead = make_lead(source)
    services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)

    html = (
        logged_in_client(admin)
        .get(reverse("leads:lead-detail", args=[lead.pk]), HTTP_ACCEPT_LANGUAGE=language)
        .content.decode()
    )

    change = re.search(r'<p class="tl__change">(.*?)</p>', html, re.S).group(1)
    assert f'<span role="img" aria-label="{word}">→</span>' in change
    assert "visually-hidden" not in change
