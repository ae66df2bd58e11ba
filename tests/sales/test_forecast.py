"""The forecast: the current quotes of the viewer's open leads by expected close month, rep and
currency, weighted (amount × probability) and best case (amount), never across currencies."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.leads.models import LeadStatus
from leadloop.sales.selectors import pipeline
from leadloop.sales.selectors.pipeline import Amount, ForecastRow, PipelineFilters
from leadloop.sales.services import quotes
from leadloop.sales.views import pipeline as pipeline_views
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead, make_source
from tests.sales.test_pipeline import deal

pytestmark = pytest.mark.django_db

MAY, JUNE = dt.date(2026, 5, 1), dt.date(2026, 6, 1)


def _rows(actor, **filters):
    return [
        (row.month, row.rep, row.currency, row.weighted, row.best_case, row.quotes)
        for row in pipeline.get_forecast(actor, PipelineFilters(**filters))
    ]


def test_quotes_add_up_by_month_rep_and_currency(source, admin, rep, teammate):
    deal(source, rep, status=LeadStatus.QUOTED, amount="10000", probability=50, close=MAY)
    deal(source, rep, status=LeadStatus.CONTACTED, amount="1234.56", probability=35,
         close=dt.date(2026, 5, 31))  # fmt: skip
    deal(source, rep, status=LeadStatus.QUOTED, amount="2000", currency="USD", probability=25,
         close=dt.date(2026, 5, 15))  # fmt: skip
    deal(source, teammate, status=LeadStatus.QUOTED, amount="500", probability=10, close=JUNE)
    deal(source, teammate, status=LeadStatus.QUOTED, amount="800", probability=40)

    rows = _rows(admin)

    assert rows == [
        (MAY, rep.display_name, "EUR", Decimal("5432.10"), Decimal("11234.56"), 2),
        (MAY, rep.display_name, "USD", Decimal("500.00"), Decimal("2000.00"), 1),
        (JUNE, teammate.display_name, "EUR", Decimal("50.00"), Decimal("500.00"), 1),
        (None, teammate.display_name, "EUR", Decimal("320.00"), Decimal("800.00"), 1),
    ]


def test_only_the_current_quote_of_an_open_lead_counts(source, rep):
    lead = deal(source, rep, status=LeadStatus.CONTACTED, amount="100", probability=10, close=MAY)
    quotes.add_quote(lead, by=SYSTEM, amount="300", probability=20, expected_close_on=JUNE)
    won = deal(source, rep, status=LeadStatus.QUOTED, amount="7000", probability=90, close=MAY)
    quotes.win(won, by=SYSTEM)

    assert _rows(rep) == [(JUNE, rep.display_name, "EUR", Decimal("60.00"), Decimal("300.00"), 1)]


def test_a_rep_forecasts_only_their_own_quotes(source, rep, teammate, other_rep):
    deal(source, rep, status=LeadStatus.QUOTED, amount="100", probability=50, close=MAY)
    deal(source, teammate, status=LeadStatus.QUOTED, amount="900000", probability=90, close=MAY)
    deal(source, other_rep, status=LeadStatus.QUOTED, amount="800000", probability=90, close=MAY)

    assert _rows(rep) == [(MAY, rep.display_name, "EUR", Decimal("50.00"), Decimal("100.00"), 1)]


def test_a_manager_forecasts_their_teams(source, manager, rep, teammate, other_rep):
    deal(source, rep, status=LeadStatus.QUOTED, amount="100", probability=50, close=MAY)
    deal(source, teammate, status=LeadStatus.QUOTED, amount="200", probability=50, close=MAY)
    deal(source, other_rep, status=LeadStatus.QUOTED, amount="800000", probability=90, close=MAY)

    assert sorted(row[1] for row in _rows(manager)) == sorted(
        [rep.display_name, teammate.display_name]
    )


def test_the_forecast_filters_by_team_rep_and_source(source, admin, rep, other_rep):
    web = make_source("Fairs")
    deal(source, rep, status=LeadStatus.QUOTED, amount="100", probability=50, close=MAY)
    deal(web, other_rep, status=LeadStatus.QUOTED, amount="200", probability=50, close=MAY)

    assert [row[1] for row in _rows(admin, team=rep.team_id)] == [rep.display_name]
    assert [row[1] for row in _rows(admin, owner=other_rep.pk)] == [other_rep.display_name]
    assert [row[1] for row in _rows(admin, source=web.pk)] == [other_rep.display_name]


def test_a_month_groups_its_reps_with_totals_per_currency():
    rows = [
        ForecastRow(MAY, 1, "Ann", "EUR", Decimal("10"), Decimal("20"), 1),
        ForecastRow(MAY, 1, "Ann", "USD", Decimal("5"), Decimal("5"), 1),
        ForecastRow(MAY, 2, "Bob", "EUR", Decimal("1"), Decimal("4"), 1),
        ForecastRow(None, 2, "Bob", "EUR", Decimal("3"), Decimal("3"), 1),
    ]

    months = pipeline.group_forecast(rows)

    assert [(m.month, len(m.rows)) for m in months] == [(MAY, 3), (None, 1)]
    assert months[0].weighted == (Amount("EUR", Decimal("11")), Amount("USD", Decimal("5")))
    assert months[0].best_case == (Amount("EUR", Decimal("24")), Amount("USD", Decimal("5")))


def test_the_api_answers_rows_with_decimal_strings(api_client_for, rep, source):
    deal(source, rep, status=LeadStatus.QUOTED, amount="1234.56", probability=35, close=MAY)
    deal(source, rep, status=LeadStatus.QUOTED, amount="99.99", currency="USD", probability=50)

    body = api_client_for(rep).get("/api/v1/sales/forecast").json()

    assert body == {
        "rows": [
            {
                "month": "2026-05",
                "rep_id": rep.pk,
                "rep": rep.display_name,
                "currency": "EUR",
                "weighted": "432.10",
                "best_case": "1234.56",
                "quotes": 1,
            },
            {
                "month": None,
                "rep_id": rep.pk,
                "rep": rep.display_name,
                "currency": "USD",
                "weighted": "50.00",
                "best_case": "99.99",
                "quotes": 1,
            },
        ]
    }


def test_the_page_shows_months_reps_and_sums_per_currency(logged_in_client, manager, rep, source):
    deal(source, rep, status=LeadStatus.QUOTED, amount="12000", probability=50, close=MAY)
    deal(source, rep, status=LeadStatus.QUOTED, amount="3000", currency="USD", probability=100,
         close=MAY)  # fmt: skip
    deal(source, rep, status=LeadStatus.CONTACTED, amount="40", probability=50)

    html = logged_in_client(manager).get("/sales/pipeline/forecast/").content.decode()

    assert "May 2026" in html
    assert "€ 6,000 + $ 3,000" in html  # weighted, May
    assert "€ 12,000 + $ 3,000" in html  # best case, May
    assert "No close date" in html
    table = html[html.index('id="forecast-table"') :]
    assert table.count(rep.display_name) == 3  # May in EUR and in USD, no date in EUR


def test_a_month_draws_its_first_reps_and_shows_the_rest_on_asking(
    logged_in_client, admin, rep, teammate, source, monkeypatch
):
    monkeypatch.setattr(pipeline_views, "FIRST_REPS", 1)
    deal(source, rep, status=LeadStatus.QUOTED, amount="100", close=MAY)
    deal(source, teammate, status=LeadStatus.QUOTED, amount="200", close=MAY)
    deal(source, rep, status=LeadStatus.QUOTED, amount="300")
    deal(source, teammate, status=LeadStatus.QUOTED, amount="400")
    client = logged_in_client(admin)
    url = "/sales/pipeline/forecast/"

    page = client.get(url).content.decode()
    may = client.get(url, {"month": "2026-05"}, headers={"HX-Request": "true"}).content.decode()
    undated = client.get(url, {"month": "none"}).content.decode()
    hostile = client.get(url, {"month": "<b>"}, headers={"HX-Request": "true"})

    table = page[page.index('id="forecast-table"') :]
    assert table.count('<td data-label="Rep">') == 2  # one a month
    assert f'hx-get="{url}?month=2026-05" hx-target="#month-2026-05"' in page
    assert f'hx-get="{url}?month=none" hx-target="#month-none"' in page
    assert may.startswith('<tbody class="forecast__month" id="month-2026-05">')
    assert may.count('<td data-label="Rep">') == 2
    assert "Show" not in may
    undated_table = undated[undated.index('id="month-none"') :]
    assert undated_table.count('<td data-label="Rep">') == 2
    assert hostile.content.decode().startswith('<section id="forecast-table"')


def test_a_reps_name_is_escaped_in_the_forecast(logged_in_client, admin, team, source):
    evil = make_user(
        Role.SALES_REP, username="evil", team=team, first_name="<img src=x onerror=alert(1)>"
    )
    deal(source, evil, status=LeadStatus.QUOTED, amount="100", close=MAY)

    html = logged_in_client(admin).get("/sales/pipeline/forecast/").content.decode()

    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_forecast_filters_reload_only_the_table(logged_in_client, rep, source):
    make_lead(source, assigned_to=rep)

    response = logged_in_client(rep).get(
        "/sales/pipeline/forecast/", {"owner": rep.pk}, headers={"HX-Request": "true"}
    )

    assert response.content.decode().startswith('<section id="forecast-table"')
    assert "No open quotes." in response.content.decode()


def test_the_forecast_costs_the_same_queries_for_many_reps(source, manager, rep, teammate):
    def queries():
        # Captured queries are also printed with their parameters (DEBUG's SQL log), which is
        # where a stray % in the month's SQL would fail.
        with CaptureQueriesContext(connection) as captured:
            pipeline.get_forecast(manager, PipelineFilters())
        return len(captured)

    deal(source, rep, status=LeadStatus.QUOTED, amount="100", close=MAY)
    few = queries()
    for owner in (rep, teammate, teammate):
        deal(source, owner, status=LeadStatus.QUOTED, amount="100", close=JUNE)

    # The managed teams, the sums, and the reps' names.
    assert few == queries() == 3
