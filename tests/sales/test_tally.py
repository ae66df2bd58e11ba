"""The whole floor's pipeline totals: the database's triggers keep them equal to the leads through
every kind of change (services, bulk updates, merges, deletes), folding keeps them, and the
board and forecast of those who see every lead read them."""

import datetime as dt
import threading
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.dedup.services import merge_leads
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus, LostReason
from leadloop.sales.models import PipelineTally, Quote
from leadloop.sales.selectors import pipeline
from leadloop.sales.selectors.pipeline import PipelineFilters
from leadloop.sales.services import quotes, tally
from tests.factories.leads import make_lead, make_source

pytestmark = pytest.mark.django_db


def _same():
    """The totals equal the leads; returns them."""
    assert tally.verify() == []
    return tally.totals()


def _quote(lead, amount, **more):
    return quotes.add_quote(lead, by=SYSTEM, amount=amount, **more)


def test_every_kind_of_change_keeps_the_totals_equal_to_the_leads(
    source, rep, teammate, other_rep, admin
):
    other_source = make_source("Fair")
    new = make_lead(source)  # not on the board: nobody works it
    a = make_lead(source, assigned_to=rep)
    b = make_lead(source, assigned_to=rep)
    c = make_lead(other_source, assigned_to=teammate)
    assert tally.totals()[("board", "assigned", source.pk, None, None, "EUR")][:2] == (2, 0)
    _same()

    first = _quote(a, "1000.10", probability=30, expected_close_on=dt.date(2027, 1, 9))
    _quote(b, "250", currency="USD")  # no close date: the forecast's month None
    _same()
    quotes.send_quote(first, by=SYSTEM)  # a is quoted
    second = _quote(a, "1999.99", probability=55, expected_close_on=dt.date(2027, 2, 1))
    _same()
    quotes.update_quote(second, by=SYSTEM, amount="2100", probability=60)
    quotes.make_current(first, by=SYSTEM)
    _same()

    lead_services.assign_lead(a, by=SYSTEM, to=teammate)  # the forecast moves to the teammate
    lead_services.update_lead(c, {"potential_revenue": "500", "probability": 40}, by=SYSTEM)
    lead_services.transition(b, to=LeadStatus.CONTACTED, by=SYSTEM)
    _same()

    # Writes that no service makes one lead at a time: a bulk UPDATE and a quote's DELETE.
    Lead.objects.filter(pk=c.pk).update(source=source)
    Lead.objects.filter(pk__in=[b.pk, c.pk]).update(currency="GBP", potential_revenue=None)
    Quote.objects.filter(lead=b).delete()
    _same()

    merge_leads(a, c, by=admin)  # c leaves the board, merged into a
    quotes.win(a, by=SYSTEM, order_value="2100")
    _same()
    d = make_lead(source, assigned_to=other_rep)
    _quote(d, "80")
    quotes.lose(d, by=SYSTEM, lost_reason=LostReason.objects.first())
    Lead.objects.filter(pk=new.pk).delete()
    assert _same() == {("board", "contacted", source.pk, None, None, "GBP"): (1, 0, None, None)}


def test_folding_adds_the_rows_up_and_drops_what_came_to_nothing(source, rep):
    lead = make_lead(source, assigned_to=rep)
    quote = _quote(lead, "100", probability=25, expected_close_on=dt.date(2027, 3, 1))
    for amount in ("110", "120", "130"):
        quotes.update_quote(quote, by=SYSTEM, amount=amount)
    gone = make_lead(source, assigned_to=rep)
    lead_services.transition(gone, to=LeadStatus.DISQUALIFIED, by=SYSTEM)
    before = tally.totals()
    rows = PipelineTally.objects.count()

    folded = tally.fold()

    assert folded == rows
    assert tally.totals() == before
    assert PipelineTally.objects.count() == len(before) == 2
    month = ("forecast", None, None, rep.pk, "2027-03", "EUR")
    assert before[month] == (1, 1, 13000 * 25, 13000)
    assert tally.fold() == 2  # nothing more to fold: the same two rows again
    assert tally.totals() == before


def test_the_whole_floors_board_and_forecast_read_the_totals(source, rep, other_rep, admin):
    lead = make_lead(source, assigned_to=rep)
    _quote(lead, "1000", probability=50, expected_close_on=dt.date(2027, 5, 2))
    make_lead(source, assigned_to=other_rep)
    board = pipeline.get_board(admin, PipelineFilters())
    assert board.count == 2
    assert board.weighted == (pipeline.Amount("EUR", Decimal("500.00")),)

    # A row no lead stands for shows on the whole floor's board and forecast, not a rep's.
    PipelineTally.objects.create(
        kind="board", status="assigned", currency="EUR", entries=5, priced=0
    )
    PipelineTally.objects.create(
        kind="forecast", owner_id=rep.pk, month="2027-05", currency="EUR", entries=1,
        priced=1, weighted=300_000, best=3_000,
    )  # fmt: skip
    assert pipeline.get_board(admin, PipelineFilters()).count == 7
    assert pipeline.get_board(rep, PipelineFilters()).count == 1
    (row,) = pipeline.get_forecast(admin, PipelineFilters())
    assert (row.weighted, row.best_case, row.quotes) == (Decimal("530.00"), Decimal("1030"), 2)
    assert tally.verify() != []

    assert tally.rebuild() == 2
    assert tally.verify() == []
    assert pipeline.get_board(admin, PipelineFilters()).count == 2


def test_the_command_verifies_rebuilds_and_folds(source, rep, capsys):
    make_lead(source, assigned_to=rep)
    call_command("pipeline", "verify")
    assert "equal" in capsys.readouterr().out

    PipelineTally.objects.create(kind="board", status="quoted", currency="EUR", entries=1, priced=0)
    with pytest.raises(CommandError, match=r"1 difference\(s\)"):
        call_command("pipeline", "verify")
    call_command("pipeline", "rebuild")
    call_command("pipeline", "fold", "--json")
    assert '"rows": 1' in capsys.readouterr().out
    call_command("pipeline", "verify")


@pytest.mark.django_db(transaction=True)
def test_folding_while_reps_work_in_parallel_loses_nothing(source, rep, teammate):
    if connection.vendor == "sqlite":
        # The in-memory SQLite test database locks tables between threads instead of queueing
        # writers, and SQLite's one writer runs these transactions one after another anyway.
        pytest.skip("parallel writers: PostgreSQL")
    leads = [make_lead(source, assigned_to=rep) for _ in range(12)]
    failures = []
    done = threading.Event()

    def work(chunk):
        try:
            for lead in chunk:
                quote = _quote(lead, "100", probability=20, expected_close_on=dt.date(2027, 4, 1))
                lead_services.transition(lead, to=LeadStatus.CONTACTED, by=SYSTEM)
                quotes.update_quote(quote, by=SYSTEM, amount="150")
                lead_services.assign_lead(lead, by=SYSTEM, to=teammate)
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    def fold():
        try:
            while not done.is_set():
                tally.fold()
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    folder = threading.Thread(target=fold)
    workers = [threading.Thread(target=work, args=(leads[i::3],)) for i in range(3)]
    folder.start()
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join(60)
    done.set()
    folder.join(60)

    assert failures == []
    assert tally.verify() == []
    month = ("forecast", None, None, teammate.pk, "2027-04", "EUR")
    assert tally.totals()[month] == (12, 12, 12 * 15000 * 20, 12 * 15000)
