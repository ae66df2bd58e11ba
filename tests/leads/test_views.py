"""The lead pages through the test client: what each role sees and what each action writes."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.leads import selectors, services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus, SavedView
from tests.factories.leads import make_campaign, make_lead, make_organization, make_source

LIST = reverse("leads:lead-list")
HTMX = {"HX-Request": "true"}


def _names(response) -> list[str]:
    """The lead names in the list's rows, in order."""
    return re.findall(r'class="lead-link"[^>]*>.*?<strong>(.*?)</strong>', response.text, re.S)


@pytest.fixture
def lost_reason(db):
    return services.get_or_create_lost_reason("Too expensive")


# --- List: visibility, filters, search, sort, paging ---------------------------------------------


def test_each_role_sees_only_its_own_leads_in_the_list(
    logged_in_client, source, rep, teammate, other_rep, partner_user, admin, team, partner_org
):
    mine = make_lead(source, first_name="Mine", last_name="Rep", assigned_to=rep)
    pool = make_lead(source, first_name="Pool", last_name="North", team=team)
    theirs = make_lead(source, first_name="Other", last_name="Rep", assigned_to=other_rep)
    routed = make_lead(source, first_name="Partner", last_name="Lead", partner=partner_org)

    as_rep = _names(logged_in_client(rep).get(LIST))
    as_other = _names(logged_in_client(other_rep).get(LIST))
    as_partner = _names(logged_in_client(partner_user).get(LIST))
    as_admin = _names(logged_in_client(admin).get(LIST))

    assert sorted(as_rep) == sorted([str(mine), str(pool)])
    assert as_other == [str(theirs)]
    assert as_partner == [str(routed)]
    assert sorted(as_admin) == sorted(str(lead) for lead in (mine, pool, theirs, routed))


def test_list_filters_by_status_and_owner_me(logged_in_client, source, admin, rep, lost_reason):
    assigned = make_lead(source, first_name="Assigned", last_name="One", assigned_to=rep)
    make_lead(source, first_name="Fresh", last_name="Two")
    lost = make_lead(source, first_name="Gone", last_name="Three", assigned_to=rep)
    services.transition(lost, to=LeadStatus.LOST, by=SYSTEM, lost_reason=lost_reason)
    client = logged_in_client(rep)

    by_status = client.get(LIST, {"status": ["assigned", "new"]})
    mine = client.get(LIST, {"owner": "me"})
    mine_all = client.get(LIST, {"owner": "me", "show": "all"})
    mine_closed = client.get(LIST, {"owner": "me", "show": "closed"})
    lost_ones = client.get(LIST, {"status": "lost"})

    assert _names(by_status) == [str(assigned)]
    # A rep's list shows open leads unless asked otherwise; a status picked by hand shows.
    assert _names(mine) == [str(assigned)]
    assert sorted(_names(mine_all)) == sorted([str(assigned), str(lost)])
    assert _names(mine_closed) == [str(lost)]
    assert _names(lost_ones) == [str(lost)]


def test_a_reps_default_list_hides_closed_leads_and_others_see_all(
    logged_in_client, source, admin, rep, lost_reason
):
    open_lead = make_lead(source, first_name="Open", last_name="One", assigned_to=rep)
    won = make_lead(source, first_name="Won", last_name="Two", assigned_to=rep)
    services.transition(won, to=LeadStatus.CONTACTED, by=SYSTEM)
    services.transition(won, to=LeadStatus.WON, by=SYSTEM, order_value=100)

    as_rep = logged_in_client(rep).get(LIST)
    as_admin = logged_in_client(admin).get(LIST)

    assert _names(as_rep) == [str(open_lead)]
    assert "Open leads" in as_rep.text
    assert sorted(_names(as_admin)) == sorted([str(open_lead), str(won)])


def test_list_filters_unassigned_source_campaign_and_grade(logged_in_client, admin, rep):
    web, fair = make_source("Web"), make_source("Fair")
    spring = make_campaign(fair, "Spring")
    a = make_lead(web, first_name="Grade", last_name="A", fit_grade="A")
    make_lead(web, first_name="Grade", last_name="B", fit_grade="B", assigned_to=rep)
    c = make_lead(fair, first_name="Fair", last_name="C", fit_grade="C", campaign_id=spring.pk)
    client = logged_in_client(admin)

    unassigned = client.get(LIST, {"owner": "unassigned", "grade": ["A", "C"]})
    by_source = client.get(LIST, {"source": fair.pk})
    by_campaign = client.get(LIST, {"campaign": spring.pk})

    assert sorted(_names(unassigned)) == sorted([str(a), str(c)])
    assert _names(by_source) == [str(c)]
    assert _names(by_campaign) == [str(c)]


def test_search_finds_a_lead_by_name_prefix_through_htmx(logged_in_client, source, admin):
    target = make_lead(source, first_name="Fenna", last_name="Zwartkruis")
    make_lead(source, first_name="Jan", last_name="Jansen")

    response = logged_in_client(admin).get(LIST, {"q": "zwart"}, headers=HTMX)

    assert response.status_code == 200
    assert _names(response) == [str(target)]
    assert "<html" not in response.text
    assert 'id="lead-results"' in response.text
    assert "HX-Request" in response["Vary"]


def test_sort_by_last_name_orders_the_rows(logged_in_client, source, admin):
    for last in ("Mulder", "Bakker", "Visser"):
        make_lead(source, first_name="X", last_name=last)

    response = logged_in_client(admin).get(LIST, {"sort": "last_name"})

    assert _names(response) == ["X Bakker", "X Mulder", "X Visser"]


def test_next_page_follows_the_cursor(logged_in_client, source, admin, monkeypatch):
    monkeypatch.setattr("leadloop.leads.views.lists.PAGE_SIZE", 2)
    for last in ("A", "B", "C"):
        make_lead(source, first_name="P", last_name=last)
    client = logged_in_client(admin)
    first = client.get(LIST, {"sort": "last_name"})
    next_href = re.search(r'rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")

    second = client.get(next_href)

    assert _names(first) == ["P A", "P B"]
    assert _names(second) == ["P C"]
    assert 'rel="next"' not in second.text
    assert "3 leads" in first.text


def test_count_is_capped_and_shown_with_a_plus(logged_in_client, source, admin, monkeypatch):
    from leadloop.leads.views import lists

    monkeypatch.setattr(selectors.count_leads, "__kwdefaults__", {"cap": 2})
    for _ in range(5):
        make_lead(source)
    client = logged_in_client(admin)

    monkeypatch.setattr(lists, "PAGE_SIZE", 2)
    capped = client.get(LIST)
    monkeypatch.setattr(lists, "PAGE_SIZE", 10)
    whole = client.get(LIST)

    assert "2+ leads" in capped.text
    assert "1–2 of 2+" in capped.text
    # When the page holds every lead, the count is no longer a guess.
    assert "5 leads" in whole.text
    assert 'class="pager' not in whole.text  # one page: no pager to show


def test_an_invalid_cursor_falls_back_to_the_first_page(logged_in_client, source, admin):
    lead = make_lead(source)

    response = logged_in_client(admin).get(LIST, {"cursor": "not-a-cursor"})

    assert response.status_code == 200
    assert _names(response) == [str(lead)]


def test_list_page_queries_do_not_grow_with_rows(
    logged_in_client, source, admin, rep, team, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadloop.accounts import defaults

    # The deployment defaults are read again every 5 s; making 30 leads on a loaded machine can
    # take longer, and that one read is not a query the page's rows cost.
    monkeypatch.setattr(defaults, "TTL", 3600.0)
    campaign = make_campaign(source, "Autumn")
    client = logged_in_client(admin)

    def queries_for_a_page_of(rows: int) -> int:
        while len(_names(client.get(LIST))) < rows:
            make_lead(source, assigned_to=rep, team=team, campaign_id=campaign.pk)
        with CaptureQueriesContext(connection) as captured:
            response = client.get(LIST)
        assert len(_names(response)) == rows
        return len(captured)

    few, many = queries_for_a_page_of(3), queries_for_a_page_of(30)

    assert many == few
    assert many <= 20  # a fixed set: session, user, nav badges, the page's ids and rows, the count


# --- Saved views ---------------------------------------------------------------------------------


def test_saving_a_view_keeps_the_query_and_lists_it(logged_in_client, source, admin):
    client = logged_in_client(admin)

    response = client.post(
        reverse("leads:savedview-create"), {"name": "Hot", "query": "grade=A&cursor=x&q=zw"}
    )

    view = SavedView.objects.get(user=admin)
    assert (view.name, view.query) == ("Hot", "grade=A&q=zw")
    assert response.status_code == 302
    assert response["Location"] == f"{LIST}?grade=A&q=zw"
    assert f'href="{LIST}?grade=A&amp;q=zw"' in client.get(LIST).text


def test_deleting_someone_elses_saved_view_is_404(logged_in_client, admin, rep):
    view = services.save_view(user=rep, name="Mine", query="owner=me")

    response = logged_in_client(admin).post(reverse("leads:savedview-delete", args=[view.pk]))

    assert response.status_code == 404
    assert SavedView.objects.filter(pk=view.pk).count() == 1


# --- Bulk actions --------------------------------------------------------------------------------


def test_bulk_assign_gives_the_ticked_leads_to_a_rep(logged_in_client, source, admin, rep):
    leads = [make_lead(source) for _ in range(3)]
    untouched = make_lead(source)

    response = logged_in_client(admin).post(
        reverse("leads:lead-bulk"),
        {
            "ids": [leads[0].pk, leads[1].pk, leads[2].pk],
            "action": "assign",
            "bulk-assignee": f"user:{rep.pk}",
            "query": "",
        },
    )

    assert response.status_code == 302
    assert Lead.objects.filter(assigned_to=rep).count() == 3
    assert Lead.objects.get(pk=untouched.pk).assigned_to_id is None
    assert Activity.objects.filter(kind=ActivityKind.ASSIGNED).count() == 3


def test_bulk_lost_needs_a_reason_and_then_closes_the_leads(
    logged_in_client, source, admin, rep, lost_reason
):
    leads = [make_lead(source, assigned_to=rep) for _ in range(2)]
    client = logged_in_client(admin)
    ids = [lead.pk for lead in leads]

    refused = client.post(
        reverse("leads:lead-bulk"),
        {"ids": ids, "action": "status", "bulk-to": "lost", "query": ""},
        headers=HTMX,
    )
    done = client.post(
        reverse("leads:lead-bulk"),
        {
            "ids": ids,
            "action": "status",
            "bulk-to": "lost",
            "bulk-lost_reason": lost_reason.pk,
            "query": "",
        },
        headers=HTMX,
    )

    assert "Lost reason: Say why the lead was lost." in refused.text
    assert "2 leads updated." in done.text
    assert sorted(Lead.objects.values_list("status", flat=True)) == ["lost", "lost"]
    assert Activity.objects.filter(kind=ActivityKind.STATUS_CHANGED, data__to="lost").count() == 2


def test_bulk_action_skips_leads_the_user_cannot_see(logged_in_client, source, rep, other_rep):
    hidden = make_lead(source, assigned_to=other_rep)
    before = Activity.objects.count()

    logged_in_client(rep).post(
        reverse("leads:lead-bulk"),
        {"ids": [hidden.pk], "action": "status", "bulk-to": "contacted", "query": ""},
    )

    assert Lead.objects.get(pk=hidden.pk).status == LeadStatus.ASSIGNED
    assert Activity.objects.count() == before


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
