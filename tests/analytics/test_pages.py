"""The analytics pages: the same figures as the selectors, in the reader's language, drill-downs
that list the leads counted, downloads, and the norms and costs forms; scoped by role."""

import io

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from leadloop.analytics.models import KpiNorms
from leadloop.leads.models import CostEntry
from tests.analytics.world import NOW, build

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(rep, teammate, team):
    return build(rep, teammate, team)


@pytest.fixture(autouse=True)
def _at_now():
    with time_machine.travel(NOW, tick=False):
        yield


def test_marketing_lands_on_the_source_report_and_sales_on_the_kpis(
    world, logged_in_client, marketing, rep
):
    assert logged_in_client(marketing).get("/analytics/")["Location"] == "/analytics/sources/"
    assert logged_in_client(rep).get("/analytics/")["Location"] == "/analytics/kpis/"


def test_the_source_report_page_shows_the_figures(world, logged_in_client, marketing):
    page = logged_in_client(marketing).get("/analytics/sources/", {"period": "2026-11"})

    assert page.status_code == 200
    html = page.content.decode()
    assert "Fair" in html
    assert "EUR 2,500.00" in html  # Fair's cost
    assert "+ USD 200.00" in html  # kept apart
    assert "8.00" in html  # Fair's ROI
    assert f"step=won&amp;source={world.fair.pk}" in html


def test_the_source_report_in_dutch_writes_numbers_the_dutch_way(
    world, logged_in_client, marketing
):
    client = logged_in_client(marketing)
    client.cookies["django_language"] = "nl"
    marketing.language = "nl"
    marketing.save()

    html = client.get("/analytics/sources/", {"period": "2026-11"}).content.decode()

    assert "EUR 2.500,00" in html


def test_a_bad_period_shows_the_error_beside_the_field_and_the_default(
    world, logged_in_client, marketing
):
    page = logged_in_client(marketing).get("/analytics/sources/", {"period": "<b>x</b>"})

    assert page.status_code == 200
    assert "Write a month (2026-11)" in page.content.decode()
    assert "<b>x</b>" not in page.content.decode()


def test_the_reports_download_as_csv_and_xlsx(world, logged_in_client, marketing):
    client = logged_in_client(marketing)

    csv_text = client.get(
        "/analytics/sources/", {"period": "2026-11", "export": "csv"}
    ).content.decode()
    xlsx = client.get("/analytics/kpis/", {"period": "2026-11", "export": "xlsx"})

    assert csv_text.splitlines()[0].startswith("source,received,")
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet.cell(1, 1).value == "rep"
    assert sheet.cell(sheet.max_row, 2).value == 4  # the total's leads handed to sales


def test_a_rep_sees_their_kpis_but_not_the_source_report_or_costs(world, logged_in_client, rep):
    client = logged_in_client(rep)

    assert client.get("/analytics/sources/").status_code == 403
    assert client.get("/analytics/costs/").status_code == 403
    page = client.get("/analytics/kpis/", {"period": "2026-11"})
    assert page.status_code == 200
    assert "Follow-up impact" in page.content.decode()


def test_an_agent_sees_no_analytics(world, logged_in_client, agent):
    client = logged_in_client(agent)

    for path in ("/analytics/", "/analytics/kpis/", "/analytics/norms/", "/analytics/leads/"):
        assert client.get(path).status_code == 403


def test_the_drill_down_lists_only_the_leads_counted(world, logged_in_client, marketing):
    page = logged_in_client(marketing).get(
        "/analytics/leads/", {"period": "2026-11", "step": "won", "source": world.fair.pk}
    )

    html = page.content.decode()
    assert f"/leads/{world.leads['L1'].pk}/" in html
    assert f"/leads/{world.leads['L2'].pk}/" not in html


def test_a_manager_sets_the_norms_and_a_rep_only_reads_them(world, logged_in_client, manager, rep):
    form = {
        "followed_up_min": "85",
        "overdue_max": "5",
        "quoted_min": "80",
        "won_min": "25",
        "order_value_min": "15000",
        "first_contact_hours_max": "8",
        "currency": "EUR",
    }
    assert logged_in_client(rep).post("/analytics/norms/", form).status_code == 403

    saved = logged_in_client(manager).post("/analytics/norms/", form)

    assert saved.status_code == 302
    norms = KpiNorms.objects.get()
    assert (norms.followed_up_min, norms.first_contact_hours_max) == (85, 8)
    refused = logged_in_client(manager).post("/analytics/norms/", {**form, "won_min": "120"})
    assert refused.status_code == 422
    assert KpiNorms.objects.get().won_min == 25


def test_marketing_records_a_cost_over_a_period_and_imports_a_file(
    world, logged_in_client, marketing
):
    client = logged_in_client(marketing)
    before = CostEntry.objects.count()

    recorded = client.post(
        "/analytics/costs/",
        {
            "action": "cost",
            "campaign": world.autumn.pk,
            "incurred_on": "2026-12-01",
            "until_on": "2026-12-31",
            "amount": "3100",
            "note": "December",
        },
    )
    bad = client.post(
        "/analytics/costs/",
        {
            "action": "import",
            "file": SimpleUploadedFile("c.csv", b"campaign,date,amount\nNope,2026-12-01,5\n"),
        },
    )

    assert recorded.status_code == 302
    assert CostEntry.objects.count() == before + 1
    assert bad.status_code == 422
    assert "row 2: campaign" in bad.content.decode()
    assert CostEntry.objects.count() == before + 1
