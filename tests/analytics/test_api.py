"""/api/v1/analytics and the cost endpoints: the same figures as the selectors, scoped to the
caller, refusals and bad input as problem details."""

import csv
import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from leadloop.leads.models import CostEntry
from tests.analytics.world import NOW, build

pytestmark = pytest.mark.django_db
BASE = "/api/v1/analytics"


@pytest.fixture
def world(rep, teammate, team):
    return build(rep, teammate, team)


@pytest.fixture(autouse=True)
def _at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def _problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_the_source_report_answers_its_figures_as_json(world, api_client_for, marketing):
    response = api_client_for(marketing).get(f"{BASE}/sources", {"period": "2026-11"})

    assert response.status_code == 200
    body = response.json()
    assert body["period"] == {
        "first": "2026-11-01",
        "last": "2026-11-30",
        "zone": "Europe/Amsterdam",
    }
    fair = next(row for row in body["rows"] if row["source"] == "Fair")
    assert fair["valid"] == 3
    assert fair["roi"] == "8.0000"
    assert fair["cost_other"] == {"USD": "200.00"}
    assert body["total"]["cost"] == "2540.00"


def test_the_source_report_as_csv_is_the_same_table(world, api_client_for, admin):
    response = api_client_for(admin).get(
        f"{BASE}/sources", {"period": "2026-11", "by": "campaign", "format": "csv"}
    )

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    autumn = next(r for r in rows if r["campaign"] == "Autumn")
    assert (autumn["valid"], autumn["cost"], autumn["roi"]) == ("2", "2500.00", "8.0000")
    assert rows[-1]["source"] == "Total"


def test_a_rep_is_refused_the_source_report_and_gets_only_their_own_kpis(
    world, api_client_for, rep
):
    client = api_client_for(rep)

    _problem(client.get(f"{BASE}/sources"), 403)
    body = client.get(f"{BASE}/kpis", {"period": "2026-11"}).json()
    assert [row["key"] for row in body["rows"]] == [rep.pk]
    assert body["rows"][0]["kpis"]["overdue"] == {"value": "0.5000", "norm": "0.1", "meets": False}


def test_an_agent_is_refused_every_report(world, api_client_for, agent):
    client = api_client_for(agent)

    for path in ("/kpis", "/follow-up-impact", "/norms", "/freshness"):
        _problem(client.get(BASE + path), 403)
    _problem(client.get(f"{BASE}/leads", {"step": "won"}), 403)


def test_a_bad_period_is_a_problem_naming_the_field(world, api_client_for, admin):
    body = _problem(api_client_for(admin).get(f"{BASE}/kpis", {"period": "2026-13"}), 422)

    assert [error["field"] for error in body["errors"]] == ["period"]


def test_the_leads_behind_a_number(world, api_client_for, marketing):
    body = (
        api_client_for(marketing)
        .get(f"{BASE}/leads", {"period": "2026-11", "step": "won", "source": world.fair.pk})
        .json()
    )

    assert body["total"] == 1
    assert [lead["id"] for lead in body["leads"]] == [world.leads["L1"].pk]
    assert body["leads"][0]["source"] == "Fair"


def test_an_unknown_step_is_refused(world, api_client_for, marketing):
    _problem(api_client_for(marketing).get(f"{BASE}/leads", {"step": "<script>"}), 422)


def test_norms_are_read_by_sales_and_changed_by_managers_not_reps(
    world, api_client_for, rep, manager
):
    assert api_client_for(rep).get(f"{BASE}/norms").json()["followed_up_min"] == 80
    _problem(api_client_for(rep).patch(f"{BASE}/norms", {"won_min": 10}, "application/json"), 403)

    changed = api_client_for(manager).patch(
        f"{BASE}/norms", {"won_min": 30, "order_value_min": "12500.50"}, "application/json"
    )

    assert changed.status_code == 200
    assert (changed.json()["won_min"], changed.json()["order_value_min"]) == (30, "12500.50")
    assert changed.json()["updated_by"] == manager.get_full_name()
    body = _problem(
        api_client_for(manager).patch(f"{BASE}/norms", {"won_min": 101}, "application/json"), 422
    )
    assert body["status"] == 422


def test_the_follow_up_impact_and_freshness(world, api_client_for, manager):
    client = api_client_for(manager)

    impact = client.get(f"{BASE}/follow-up-impact", {"period": "2026-11"}).json()
    assert [row["leads"] for row in impact["rows"]] == [2, 1, 1]
    assert client.get(f"{BASE}/freshness").json() == {"seconds_behind": 0}


CSV = b"""campaign;date;until;amount;currency;note
Autumn;2026-12-01;2026-12-31;3.100,00;EUR;December media
Autumn;02-12-2026;;150,5;;print
"""


def test_costs_import_from_csv_all_or_nothing(world, api_client_for, marketing):
    client = api_client_for(marketing)
    before = CostEntry.objects.count()

    done = client.post("/api/v1/campaigns/costs/import", {"file": SimpleUploadedFile("c.csv", CSV)})
    assert done.status_code == 201, done.content
    assert done.json() == {"created": 2, "amount_by_currency": {"EUR": "3250.50"}}
    period = CostEntry.objects.get(note="December media")
    assert (str(period.incurred_on), str(period.until_on)) == ("2026-12-01", "2026-12-31")

    bad = CSV + b"Nowhere;2026-12-03;;10;;\nAutumn;2026-12-04;;-5;;\n"
    body = _problem(
        client.post("/api/v1/campaigns/costs/import", {"file": SimpleUploadedFile("c.csv", bad)}),
        422,
    )
    assert {error["field"] for error in body["errors"]} == {"row 4: campaign", "row 5: amount"}
    assert CostEntry.objects.count() == before + 2


def test_a_rep_cannot_import_costs_or_price_a_source(world, api_client_for, rep):
    client = api_client_for(rep)

    _problem(
        client.post("/api/v1/campaigns/costs/import", {"file": SimpleUploadedFile("c.csv", CSV)}),
        403,
    )
    _problem(
        client.put(
            f"/api/v1/sources/{world.broker.pk}/cost-per-lead",
            {"cost_per_lead": "1"},
            "application/json",
        ),
        403,
    )


def test_marketing_prices_a_purchased_source(world, api_client_for, marketing):
    response = api_client_for(marketing).put(
        f"/api/v1/sources/{world.broker.pk}/cost-per-lead",
        {"cost_per_lead": "17.50", "currency": "EUR"},
        "application/json",
    )

    assert response.status_code == 200
    assert response.json()["cost_per_lead"] == "17.50"
