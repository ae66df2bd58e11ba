"""The pipeline board: per stage the count of the viewer's open leads and their weighted value
per currency (never summed across currencies), the cards by priority, the filters, who sees what,
and moving a card through the lifecycle (UI and API)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.leads import services as lead_services
from leadloop.leads.models import Activity, ActivityKind, Lead, LeadStatus
from leadloop.sales.selectors import pipeline
from leadloop.sales.selectors.pipeline import Amount, PipelineFilters
from leadloop.sales.services import quotes
from leadloop.sales.views import pipeline as pipeline_views
from tests.factories.accounts import make_team, make_user
from tests.factories.leads import make_lead, make_source

pytestmark = pytest.mark.django_db


def deal(
    source,
    rep,
    *,
    status=LeadStatus.ASSIGNED,
    amount=None,
    currency="EUR",
    probability=None,
    close=None,
    **fields,
):
    """A lead of `rep` in `status`, with a current quote when `amount` is given (a quoted lead's
    quote is sent, which moves it to quoted)."""
    lead = make_lead(source, assigned_to=rep, **fields)
    if status != LeadStatus.ASSIGNED:
        lead_services.transition(lead, to=LeadStatus.CONTACTED, by=SYSTEM)
    if amount is not None:
        quote = quotes.add_quote(
            lead,
            by=SYSTEM,
            amount=amount,
            currency=currency,
            probability=probability,
            expected_close_on=close,
        )
        if status == LeadStatus.QUOTED:
            quotes.send_quote(quote, by=SYSTEM)
    elif status == LeadStatus.QUOTED:
        lead_services.transition(lead, to=LeadStatus.QUOTED, by=SYSTEM)
    lead.refresh_from_db()
    assert lead.status == status
    return lead


def _stage(board, status):
    return next(stage for stage in board.stages if stage.status == status)


def _weighted(board):
    return {stage.status: stage.weighted for stage in board.stages}


def test_each_stage_counts_its_leads_and_weighs_their_revenue(source, rep):
    deal(source, rep)
    deal(source, rep, status=LeadStatus.CONTACTED, amount="10000", probability=25)
    deal(source, rep, status=LeadStatus.CONTACTED, amount="1234.56", probability=35)
    deal(source, rep, status=LeadStatus.QUOTED, amount="8000", probability=50)

    board = pipeline.get_board(rep, PipelineFilters())

    assert [(s.status, s.count) for s in board.stages] == [
        ("assigned", 1),
        ("contacted", 2),
        ("quoted", 1),
    ]
    # 10,000 × 25% + 1,234.56 × 35% = 2,500 + 432.096, rounded to the cent after summing.
    assert _weighted(board) == {
        "assigned": (),
        "contacted": (Amount("EUR", Decimal("2932.10")),),
        "quoted": (Amount("EUR", Decimal("4000.00")),),
    }
    assert board.count == 4
    assert board.weighted == (Amount("EUR", Decimal("6932.10")),)


def test_euros_and_dollars_are_summed_apart_never_together(source, rep):
    deal(source, rep, status=LeadStatus.QUOTED, amount="12000", probability=100)
    deal(source, rep, status=LeadStatus.QUOTED, amount="4000", currency="USD", probability=75)
    deal(source, rep, status=LeadStatus.QUOTED, amount="1000", currency="USD", probability=50)

    board = pipeline.get_board(rep, PipelineFilters())

    assert _stage(board, "quoted").count == 3
    assert _stage(board, "quoted").weighted == (
        Amount("EUR", Decimal("12000.00")),
        Amount("USD", Decimal("3500.00")),
    )


def test_closed_merged_and_unassigned_new_leads_are_not_on_the_board(source, rep):
    on_board = deal(source, rep, status=LeadStatus.CONTACTED, amount="500", probability=20)
    won = deal(source, rep, status=LeadStatus.QUOTED, amount="9000", probability=90)
    quotes.win(won, by=SYSTEM)
    make_lead(source)  # new, nobody's

    board = pipeline.get_board(SYSTEM, PipelineFilters())

    assert [lead.pk for stage in board.stages for lead in stage.cards] == [on_board.pk]
    assert board.weighted == (Amount("EUR", Decimal("100.00")),)


def test_cards_come_by_priority_and_the_column_says_how_many_more(source, rep):
    leads = [deal(source, rep) for _ in range(5)]
    for priority, lead in zip([10, 90, 50, 70, 30], leads, strict=True):
        Lead.objects.filter(pk=lead.pk).update(priority=priority)

    board = pipeline.get_board(rep, PipelineFilters(), cap=3)

    stage = _stage(board, "assigned")
    assert [card.pk for card in stage.cards] == [leads[1].pk, leads[3].pk, leads[2].pk]
    assert stage.count == 5
    assert stage.more == 2


def test_a_rep_sees_only_their_own_cards_and_sums(source, rep, teammate, other_rep):
    mine = deal(source, rep, status=LeadStatus.QUOTED, amount="2000", probability=50)
    deal(source, teammate, status=LeadStatus.QUOTED, amount="900000", probability=90)
    deal(source, other_rep, status=LeadStatus.QUOTED, amount="500000", probability=80)

    board = pipeline.get_board(rep, PipelineFilters())

    assert [lead.pk for stage in board.stages for lead in stage.cards] == [mine.pk]
    assert _stage(board, "quoted").count == 1
    assert board.weighted == (Amount("EUR", Decimal("1000.00")),)


def test_a_manager_sees_their_teams_leads_not_another_teams(source, manager, rep, other_rep):
    ours = deal(source, rep, status=LeadStatus.CONTACTED, amount="3000", probability=10)
    deal(source, other_rep, status=LeadStatus.CONTACTED, amount="70000", probability=90)

    board = pipeline.get_board(manager, PipelineFilters())

    assert [lead.pk for lead in _stage(board, "contacted").cards] == [ours.pk]
    assert board.weighted == (Amount("EUR", Decimal("300.00")),)


def test_marketing_and_admins_see_every_team(source, admin, marketing, rep, other_rep):
    deal(source, rep)
    deal(source, other_rep)

    assert _stage(pipeline.get_board(admin, PipelineFilters()), "assigned").count == 2
    assert _stage(pipeline.get_board(marketing, PipelineFilters()), "assigned").count == 2


def test_a_partner_user_gets_no_board_or_forecast(source, partner_user, partner_org):
    make_lead(source, partner=partner_org)

    with pytest.raises(NotAllowed):
        pipeline.get_board(partner_user, PipelineFilters())
    with pytest.raises(NotAllowed):
        pipeline.get_forecast(partner_user, PipelineFilters())


def test_filters_narrow_by_team_rep_source_and_close_month(source, rep, teammate, other_rep):
    web = make_source("Partner site")
    may = dt.date(2026, 5, 20)
    a = deal(source, rep, status=LeadStatus.QUOTED, amount="1000", probability=50, close=may)
    b = deal(source, teammate, status=LeadStatus.QUOTED, amount="1000", probability=50)
    c = deal(web, other_rep, status=LeadStatus.QUOTED, amount="1000", probability=50, close=may)
    d = deal(web, rep, status=LeadStatus.CONTACTED, amount="1000", close=dt.date(2026, 6, 1))

    def cards(**filters):
        board = pipeline.get_board(SYSTEM, PipelineFilters(**filters))
        return sorted(lead.pk for stage in board.stages for lead in stage.cards)

    assert cards(team=rep.team_id) == sorted([a.pk, b.pk, d.pk])
    assert cards(owner=rep.pk) == sorted([a.pk, d.pk])
    assert cards(source=web.pk) == sorted([c.pk, d.pk])
    assert cards(close_month=dt.date(2026, 5, 1)) == sorted([a.pk, c.pk])
    assert cards(close_month=dt.date(2026, 6, 1), owner=rep.pk) == [d.pk]
    assert cards(close_month=dt.date(2026, 7, 1)) == []


def test_the_close_month_follows_the_current_quote_only(source, rep):
    lead = deal(source, rep, status=LeadStatus.CONTACTED, amount="100", close=dt.date(2026, 5, 3))
    quotes.add_quote(lead, by=SYSTEM, amount="200", expected_close_on=dt.date(2026, 8, 9))

    may = pipeline.get_board(rep, PipelineFilters(close_month=dt.date(2026, 5, 1)))
    august = pipeline.get_board(rep, PipelineFilters(close_month=dt.date(2026, 8, 1)))

    assert may.count == 0
    assert august.count == 1


@pytest.mark.parametrize("raw", ["2026-13", "May", "2026-5-1", "26-05", "0000-01"])
def test_a_month_that_is_no_month_is_refused(raw):
    with pytest.raises(ValidationFailed):
        pipeline.parse_month(raw)


def test_a_month_is_read_as_its_first_day():
    assert pipeline.parse_month(" 2026-05 ") == dt.date(2026, 5, 1)
    assert pipeline.parse_month("") is None


def test_the_board_costs_the_same_queries_for_many_leads(source, manager, rep, teammate):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            board = pipeline.get_board(manager, PipelineFilters())
            [lead.assigned_to for stage in board.stages for lead in stage.cards]
        return len(captured)

    for status in pipeline.STAGES:
        deal(source, rep, status=status, amount="100", probability=10)
    few = queries()
    for owner in (rep, teammate, rep):
        for status in pipeline.STAGES:
            deal(source, owner, status=status, amount="100", probability=10)

    # The managed teams, one aggregate, and one query of cards per stage.
    assert few == queries() == 5


@pytest.mark.parametrize("who", ["admin", "manager", "rep"])
def test_the_board_spells_its_stages_out_for_the_partial_indexes(request, source, rep, who):
    # SQLite matches a partial index's `status IN ('assigned', …)` only against the same
    # constants in the query, never against bound parameters (leads.0020).
    deal(source, rep, status=LeadStatus.QUOTED, amount="100", close=dt.date(2026, 5, 9))
    deal(source, rep, status=LeadStatus.CONTACTED, amount="100", close=dt.date(2026, 5, 9))
    deal(source, rep, amount="100", close=dt.date(2026, 5, 9))
    actor = request.getfixturevalue(who)
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        pipeline.get_board(actor, PipelineFilters(close_month=dt.date(2026, 5, 1)))

    on_leads = [(sql, params) for sql, params in statements if "leads_lead" in sql]
    assert len(on_leads) == 4  # the sums and three columns
    for sql, params in on_leads:
        assert """"status" IN ('assigned', 'contacted', 'quoted')""" in sql
        assert ("assigned", "contacted", "quoted") not in [
            tuple(params[i : i + 3]) for i in range(len(params))
        ]


def test_the_whole_floors_sums_read_the_totals_and_its_cards_the_board_index_on_sqlite(
    source, rep, admin
):
    if connection.vendor != "sqlite":
        pytest.skip("the plans of SQLite's partial indexes")
    deal(source, rep, status=LeadStatus.QUOTED, amount="100", probability=10)
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        pipeline.get_board(admin, PipelineFilters())

    with connection.cursor() as cursor:
        plans = []
        for sql, params in statements:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            plans.append(" / ".join(row[3] for row in cursor.fetchall()))
    assert "SCAN sales_pipelinetally" in plans[0]
    assert all("USING COVERING INDEX lead_board " in plan for plan in plans[1:])


# --- the page ----------------------------------------------------------------------------


def test_the_page_shows_columns_counts_and_sums_per_currency(logged_in_client, rep, source):
    deal(
        source, rep, status=LeadStatus.QUOTED, amount="12000", probability=100, company_name="Acme"
    )
    deal(source, rep, status=LeadStatus.QUOTED, amount="6000", currency="USD", probability=50)

    html = logged_in_client(rep).get("/sales/pipeline/").content.decode()

    assert "€ 12,000 + $ 3,000" in html
    assert '$ 3,000 <span class="muted">(50% of $ 6,000)</span>' in html
    assert "Acme" in html
    assert 'data-stage="quoted"' in html
    assert "vendor/sortable.min.js" in html


def test_a_full_column_links_to_the_rest_in_the_lead_list(
    logged_in_client, rep, source, monkeypatch
):
    monkeypatch.setattr(pipeline, "CARD_CAP", 1)
    deal(source, rep, status=LeadStatus.CONTACTED)
    deal(source, rep, status=LeadStatus.CONTACTED)

    html = logged_in_client(rep).get("/sales/pipeline/", {"owner": rep.pk}).content.decode()

    link = f"/leads/?show=all&amp;status=contacted&amp;owner={rep.pk}&amp;sort=-priority"
    assert f'<a class="pipeline-column__more" href="{link}">1 more</a>' in html
    assert html.count('class="pipeline-card"') == 1


def test_a_column_draws_its_first_cards_and_shows_the_rest_on_asking(
    logged_in_client, rep, source, monkeypatch
):
    monkeypatch.setattr(pipeline_views, "FIRST_CARDS", 1)
    monkeypatch.setattr(pipeline, "CARD_CAP", 2)
    for name in ("Ann", "Bea", "Cas"):
        deal(source, rep, status=LeadStatus.CONTACTED, first_name=name)
    deal(source, rep, first_name="Dee")
    client = logged_in_client(rep)

    page = client.get("/sales/pipeline/", {"owner": rep.pk}).content.decode()
    column = client.get(
        "/sales/pipeline/", {"owner": rep.pk, "stage": "contacted"}, headers={"HX-Request": "true"}
    )
    no_script = client.get("/sales/pipeline/", {"owner": rep.pk, "stage": "contacted"})
    hostile = client.get("/sales/pipeline/", {"stage": "<script>"}, headers={"HX-Request": "true"})

    assert page.count('class="pipeline-card"') == 2  # one a column
    more = f"/sales/pipeline/?owner={rep.pk}&amp;stage=contacted"
    assert f'hx-get="{more}" hx-target="#column-contacted"' in page
    assert "Show 1 more" in page
    html = column.content.decode()
    assert html.startswith('<section id="column-contacted"')
    assert html.count('class="pipeline-card"') == 2
    assert "Show" not in html
    assert 'class="pipeline-column__more" href="/leads/?show=all&amp;status=contacted' in html
    assert no_script.content.decode().count('class="pipeline-card"') == 3  # 2 + the other column
    assert hostile.status_code == 200
    assert hostile.content.decode().startswith('<div id="pipeline-board"')


def test_the_filters_reload_only_the_board(logged_in_client, rep, source):
    deal(source, rep, status=LeadStatus.CONTACTED, amount="100", probability=10)

    response = logged_in_client(rep).get(
        "/sales/pipeline/", {"owner": rep.pk}, headers={"HX-Request": "true"}
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert html.startswith('<div id="pipeline-board"')
    assert "<html" not in html


def test_a_month_that_is_no_month_is_said_on_the_page_and_ignored(logged_in_client, rep, source):
    deal(source, rep)

    html = logged_in_client(rep).get("/sales/pipeline/", {"close_month": "soon"}).content.decode()

    assert "Give the month as year and month, like 2026-05." in html
    assert "1 open lead" in html


def test_a_lead_name_is_escaped_on_its_card(logged_in_client, rep, source):
    deal(source, rep, first_name='<script>alert("x")</script>', company_name="<b>Evil</b> BV")

    html = logged_in_client(rep).get("/sales/pipeline/").content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "<b>Evil</b>" not in html
    assert "&lt;b&gt;Evil&lt;/b&gt; BV" in html


@pytest.mark.parametrize("path", ["/sales/pipeline/", "/sales/pipeline/forecast/"])
def test_a_partner_user_cannot_open_the_pages(logged_in_client, partner_user, path):
    assert logged_in_client(partner_user).get(path).status_code == 403


def test_moving_a_card_moves_the_lead_through_the_lifecycle(logged_in_client, rep, source):
    lead = deal(source, rep, status=LeadStatus.CONTACTED)

    response = logged_in_client(rep).post(
        f"/sales/pipeline/leads/{lead.pk}/move/", {"to": "quoted", "owner": rep.pk}
    )

    assert response.status_code == 302
    assert response["Location"] == f"/sales/pipeline/?owner={rep.pk}"
    lead.refresh_from_db()
    assert lead.status == LeadStatus.QUOTED
    moves = Activity.objects.filter(lead=lead, kind=ActivityKind.STATUS_CHANGED)
    assert moves.latest("id").data == {"from": "contacted", "to": "quoted"}


def test_a_move_the_lifecycle_refuses_leaves_the_lead_and_says_why(logged_in_client, rep, source):
    lead = deal(source, rep)
    before = Activity.objects.filter(lead=lead).count()

    response = logged_in_client(rep).post(
        f"/sales/pipeline/leads/{lead.pk}/move/", {"to": "quoted"}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "A lead cannot move from Assigned to Quoted." in html
    assert html.startswith('<div id="pipeline-board"')
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ASSIGNED
    assert Activity.objects.filter(lead=lead).count() == before


@pytest.mark.parametrize("to", ["", "won", "nonsense"])
def test_a_move_to_no_stage_of_the_board_is_refused(logged_in_client, rep, source, to):
    lead = deal(source, rep, status=LeadStatus.CONTACTED)

    response = logged_in_client(rep).post(
        f"/sales/pipeline/leads/{lead.pk}/move/", {"to": to}, headers={"HX-Request": "true"}
    )

    assert response.status_code == 422
    assert "Choose a stage of the board." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CONTACTED


def test_the_move_form_without_scripting_comes_back_to_the_board_with_the_message(
    logged_in_client, rep, source
):
    lead = deal(source, rep)
    client = logged_in_client(rep)

    response = client.post(f"/sales/pipeline/leads/{lead.pk}/move/", {"to": "quoted"}, follow=True)

    assert response.redirect_chain == [("/sales/pipeline/", 302)]
    assert "A lead cannot move from Assigned to Quoted." in response.content.decode()


def test_a_rep_cannot_move_another_reps_lead(logged_in_client, rep, other_rep, source):
    theirs = deal(source, other_rep, status=LeadStatus.CONTACTED)

    response = logged_in_client(rep).post(
        f"/sales/pipeline/leads/{theirs.pk}/move/", {"to": "quoted"}
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == LeadStatus.CONTACTED


def test_a_lead_that_left_the_board_is_not_moved_from_a_stale_card(logged_in_client, rep, source):
    lead = deal(source, rep, status=LeadStatus.QUOTED, amount="100")
    quotes.win(lead, by=SYSTEM)

    response = logged_in_client(rep).post(
        f"/sales/pipeline/leads/{lead.pk}/move/",
        {"to": "contacted"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 409
    assert "is no longer on the board" in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.WON


def test_a_partner_user_cannot_move_a_card(logged_in_client, partner_user, partner_org, source):
    lead = make_lead(source, partner=partner_org)

    response = logged_in_client(partner_user).post(
        f"/sales/pipeline/leads/{lead.pk}/move/", {"to": "contacted"}
    )

    assert response.status_code == 403
    lead.refresh_from_db()
    assert lead.status == LeadStatus.ASSIGNED


# --- the API ------------------------------------------------------------------------------


def test_the_api_answers_stages_with_sums_per_currency_as_decimal_strings(
    api_client_for, rep, source
):
    deal(source, rep, status=LeadStatus.QUOTED, amount="1234.56", probability=35)
    deal(source, rep, status=LeadStatus.QUOTED, amount="3000", currency="USD", probability=100)

    body = api_client_for(rep).get("/api/v1/sales/pipeline", {"cards": 1}).json()

    quoted = body["stages"][2]
    assert [s["status"] for s in body["stages"]] == ["assigned", "contacted", "quoted"]
    assert quoted["count"] == 2
    assert quoted["more"] == 1
    assert quoted["weighted"] == [
        {"currency": "USD", "amount": "3000.00"},
        {"currency": "EUR", "amount": "432.10"},
    ]
    assert body["weighted"] == quoted["weighted"]


def test_the_api_card_carries_the_deal(api_client_for, rep, source):
    lead = deal(
        source,
        rep,
        status=LeadStatus.QUOTED,
        amount="1234.56",
        probability=35,
        close=dt.date(2026, 5, 2),
    )

    card = api_client_for(rep).get("/api/v1/sales/pipeline").json()["stages"][2]["cards"][0]

    assert card == {
        "id": lead.pk,
        "name": lead.full_name,
        "company_name": "",
        "priority": lead.priority,
        "fit_grade": lead.fit_grade,
        "owner_id": rep.pk,
        "owner": rep.display_name,
        "potential_revenue": "1234.56",
        "probability": 35,
        "currency": "EUR",
        "weighted": "432.10",
        "expected_close_on": "2026-05-02",
    }


def test_the_api_filters_like_the_page(api_client_for, admin, rep, other_rep, source):
    deal(source, rep, status=LeadStatus.CONTACTED, amount="100", close=dt.date(2026, 5, 1))
    deal(source, other_rep, status=LeadStatus.CONTACTED, amount="100")
    client = api_client_for(admin)

    by_team = client.get("/api/v1/sales/pipeline", {"team": other_rep.team_id}).json()
    by_month = client.get("/api/v1/sales/pipeline", {"close_month": "2026-05"}).json()

    assert by_team["count"] == 1
    assert by_team["stages"][1]["cards"][0]["owner_id"] == other_rep.pk
    assert by_month["count"] == 1
    assert by_month["stages"][1]["cards"][0]["owner_id"] == rep.pk


def test_the_api_refuses_a_month_that_is_no_month(api_client_for, rep):
    response = api_client_for(rep).get("/api/v1/sales/pipeline", {"close_month": "2026-13"})

    assert response.status_code == 422
    assert [(e["field"], e["detail"]) for e in response.json()["errors"]] == [
        ("close_month", "Not a month.")
    ]


@pytest.mark.parametrize("path", ["/api/v1/sales/pipeline", "/api/v1/sales/forecast"])
def test_a_partner_user_gets_403_from_the_api(api_client_for, partner_user, path):
    response = api_client_for(partner_user).get(path)

    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")


def test_a_rep_of_another_team_sees_none_of_a_big_deal_through_the_api(api_client_for, rep, source):
    south = make_team("South-East")
    stranger = make_user(Role.SALES_REP, username="stranger", team=south)
    deal(source, stranger, status=LeadStatus.QUOTED, amount="999999", probability=100)

    body = api_client_for(rep).get("/api/v1/sales/pipeline").json()

    assert body["count"] == 0
    assert body["weighted"] == []
    assert [stage["cards"] for stage in body["stages"]] == [[], [], []]
