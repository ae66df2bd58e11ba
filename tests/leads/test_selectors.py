import datetime as dt

import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads import selectors, services
from leadloop.leads.models import Lead, LeadStatus
from leadloop.leads.selectors import LeadFilters
from tests.factories.leads import make_lead, make_organization


def _names(page):
    return [lead.last_name for lead in page.items]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("vrie", ["de Vries"]),
        ("DE VRIES", ["de Vries"]),
        ("müller", ["Müller"]),
        ("muller", ["Müller"]),
        ("ann@example", ["de Vries"]),
        ("acme", ["de Vries"]),
        ("0612", ["de Vries"]),
        ("+31 6 1234", ["de Vries"]),
        ("06-12345678", ["de Vries"]),
        ("zzz", []),
        ("ries", []),
    ],
)
def test_search_matches_word_prefixes_of_name_email_company_and_phone(source, query, expected):
    make_lead(
        source,
        first_name="Ann",
        last_name="de Vries",
        email="ann@example.com",
        company_name="Acme B.V.",
        phone="0612345678",
    )
    make_lead(source, first_name="Jörg", last_name="Müller", email="j@other.de")

    page = selectors.list_leads(SYSTEM, LeadFilters(q=query))

    assert _names(page) == expected


def test_search_with_sql_and_fts_syntax_is_just_text(source):
    make_lead(source, last_name='O"Brien OR 1=1; DROP TABLE leads_lead; --')

    found = selectors.list_leads(SYSTEM, LeadFilters(q='O"Brien OR 1=1; DROP'))
    not_found = selectors.list_leads(SYSTEM, LeadFilters(q='" OR * NEAR( DROP'))

    assert _names(found) == ['O"Brien OR 1=1; DROP TABLE leads_lead; --']
    assert _names(not_found) == []


@pytest.mark.parametrize(
    "sort", ["-created_at", "created_at", "last_name", "-last_name", "priority"]
)
def test_cursor_pages_cover_every_lead_once_in_order(source, sort):
    base = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    for i in range(23):
        make_lead(source, last_name=f"N{i % 5}", at=base + dt.timedelta(hours=i % 7))

    seen, cursor = [], None
    while True:
        page = selectors.list_leads(SYSTEM, LeadFilters(sort=sort), cursor=cursor, limit=4)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break

    field = sort.lstrip("-")
    keys = [(getattr(lead, field), lead.pk) for lead in seen]
    assert len({lead.pk for lead in seen}) == 23
    assert keys == sorted(keys, reverse=sort.startswith("-"))


def test_bad_cursor_and_unknown_sort_are_validation_errors(source):
    with pytest.raises(ValidationFailed):
        selectors.list_leads(SYSTEM, LeadFilters(), cursor="not-a-cursor")
    with pytest.raises(ValidationFailed):
        selectors.list_leads(SYSTEM, LeadFilters(sort="password"))


def test_filters_combine(source, rep):
    wanted = make_lead(source, assigned_to=rep, fit_grade="A")
    make_lead(source, assigned_to=rep, fit_grade="C")
    make_lead(source, fit_grade="A")

    page = selectors.list_leads(
        SYSTEM, LeadFilters(status=(LeadStatus.ASSIGNED,), assigned_to=rep.pk, grade=("A",))
    )

    assert [lead.pk for lead in page.items] == [wanted.pk]


def test_count_is_capped(source):
    for _ in range(5):
        make_lead(source)

    assert selectors.count_leads(SYSTEM, LeadFilters(), cap=3) == (3, True)
    assert selectors.count_leads(SYSTEM, LeadFilters(), cap=10) == (5, False)


def test_organization_page_rolls_up_the_whole_tree(source, admin):
    holding = make_organization("Holding")
    branch = make_organization("Branch", parent=holding)
    shop = make_organization("Shop", parent=branch)
    make_lead(source, organization_id=holding.pk)
    make_lead(source, organization_id=shop.pk)
    make_lead(source, organization_id=make_organization("Elsewhere").pk)

    tree = selectors.get_organization_tree(admin, holding.pk)
    branch_tree = selectors.get_organization_tree(admin, branch.pk)

    assert tree.lead_count == 2
    assert [o.name for o in tree.descendants] == ["Branch", "Shop"]
    assert [o.name for o in branch_tree.ancestors] == ["Holding"]
    assert branch_tree.lead_count == 1


def test_partner_cannot_open_organizations(partner_user):
    org = make_organization("Holding")

    with pytest.raises(NotFound):
        selectors.get_organization_tree(partner_user, org.pk)


def test_timeline_is_newest_first(source, admin):
    lead = make_lead(source)
    services.log_activity(lead, kind="note", message="first", by=admin)
    services.log_activity(lead, kind="note", message="second", by=admin)

    entries = selectors.list_timeline(admin, lead.pk)

    assert [e.message for e in entries[:2]] == ["second", "first"]


def test_what_hangs_off_a_lead_is_refused_to_who_may_not_see_it(source, rep, other_rep):
    from leadloop.nurture.mail.selectors import list_lead_messages_for

    lead = make_lead(source, assigned_to=rep)
    services.log_activity(lead, kind="note", message="mine", by=rep)

    assert [e.message for e in selectors.list_timeline(rep, lead.pk)][:1] == ["mine"]
    assert list(list_lead_messages_for(rep, lead.pk)) == []
    for read in (selectors.list_timeline, list_lead_messages_for):
        with pytest.raises(NotFound):
            read(other_rep, lead.pk)
        with pytest.raises(NotFound):
            read(rep, lead.pk + 1000)


def test_created_date_filter_uses_the_viewers_day(source):
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    late_evening_utc = dt.datetime(
        2026, 3, 1, 23, 30, tzinfo=dt.UTC
    )  # 00:30 on 2 March in Amsterdam
    make_lead(source, last_name="Night", at=late_evening_utc)

    with timezone.override(ZoneInfo("Europe/Amsterdam")):
        second = selectors.list_leads(SYSTEM, LeadFilters(created_from=dt.date(2026, 3, 2)))
        first = selectors.list_leads(SYSTEM, LeadFilters(created_to=dt.date(2026, 3, 1)))

    assert _names(second) == ["Night"]
    assert _names(first) == []


@pytest.mark.parametrize(
    ("query", "expected"),
    [("иван", ["Иванов"]), ("ΠΑΠΑ", ["Παπαδόπουλος"]), ("東京", ["東京"]), ("*", []), ("^", [])],
)
def test_search_finds_names_in_every_script_and_punctuation_finds_nothing(source, query, expected):
    make_lead(source, first_name="Иван", last_name="Иванов")
    make_lead(source, last_name="Παπαδόπουλος")
    make_lead(source, last_name="東京")

    page = selectors.list_leads(SYSTEM, LeadFilters(q=query))

    assert _names(page) == expected


def test_a_count_over_its_time_budget_answers_at_least_what_is_known(source, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the time budget is PostgreSQL's statement_timeout")
    for _ in range(3):
        make_lead(source)
    monkeypatch.setattr("leadloop.leads.selectors.leads.COUNT_BUDGET_MS", 1)
    # pg_sleep makes the count slower than any budget, without mocking the database.
    monkeypatch.setattr(
        Lead.objects,
        "filter",
        lambda **kw: Lead.objects.extra(where=["pg_sleep(0.05) IS NOT NULL"]).filter(**kw),
    )

    assert selectors.count_leads(SYSTEM, LeadFilters(), at_least=50) == (50, True)


def test_the_counts_time_budget_ends_with_the_count_inside_a_transaction(source):
    """The test runs inside a transaction, as a service's caller may: the budget must not
    outlive the count (a later slow query would be cancelled)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the time budget is PostgreSQL's statement_timeout")
    make_lead(source)
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        (before,) = cursor.fetchone()

        assert selectors.count_leads(SYSTEM, LeadFilters()) == (1, False)

        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone() == (before,)
