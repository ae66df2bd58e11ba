"""The start page: what needs each role today, scoped to the leads the viewer may see."""

from __future__ import annotations

import datetime as dt

import time_machine
from django.urls import reverse

from leadloop.accounts.services import set_user_language
from leadloop.intake import services as intake_services
from leadloop.intake.models import SubmissionState
from leadloop.leads.selectors import home
from tests.factories.leads import make_lead, make_source

NOW = dt.datetime(2026, 3, 10, 9, 0, tzinfo=dt.UTC)
HOME = reverse("web:home")


def test_a_rep_sees_due_follow_ups_and_new_leads_but_not_a_teammates(
    logged_in_client, source, rep, teammate
):
    with time_machine.travel(NOW, tick=False):
        overdue = make_lead(
            source,
            assigned_to=rep,
            last_name="Overdue",
            next_follow_up_at=NOW - dt.timedelta(days=2),
        )
        tonight = make_lead(
            source,
            assigned_to=rep,
            last_name="Tonight",
            next_follow_up_at=NOW + dt.timedelta(hours=8),
        )
        make_lead(
            source,
            assigned_to=rep,
            last_name="Nextweek",
            next_follow_up_at=NOW + dt.timedelta(days=7),
        )
        make_lead(
            source,
            assigned_to=teammate,
            last_name="Teammates",
            next_follow_up_at=NOW - dt.timedelta(days=1),
        )

        response = logged_in_client(rep).get(HOME)

    assert response.status_code == 200
    assert [lead.pk for lead in response.context["due"]] == [overdue.pk, tonight.pk]
    assert "Nextweek" in response.text  # among the new leads, not the due ones
    assert "Teammates" not in response.text
    assert response.context["held"] == 0
    assert "unassigned" not in response.context


def test_a_manager_sees_capped_team_counts(logged_in_client, source, manager, rep, team):
    with time_machine.travel(NOW, tick=False):
        for _ in range(3):
            make_lead(source, team=team)
        make_lead(source, assigned_to=rep, next_follow_up_at=NOW - dt.timedelta(hours=1))
        make_lead(source)  # outside the manager's teams

        response = logged_in_client(manager).get(HOME)

    assert response.context["unassigned"] == home.Capped(3, False)
    assert response.context["overdue"] == home.Capped(1, False)


def test_counts_stop_at_the_cap(source, manager, team, django_assert_max_num_queries):
    for _ in range(home.HOME_CAP + 2):
        make_lead(source, team=team)

    with django_assert_max_num_queries(2):
        count = home.count_unassigned(manager)

    assert count == home.Capped(home.HOME_CAP, True)


def test_marketing_sees_todays_intake_by_source_and_quarantined_submissions(
    logged_in_client, marketing
):
    web, fair = make_source("Web"), make_source("Fair")
    with time_machine.travel(NOW - dt.timedelta(days=1), tick=False):
        make_lead(web)
    with time_machine.travel(NOW, tick=False):
        make_lead(web)
        make_lead(web)
        make_lead(fair)
        broken = intake_services.receive(
            source=web, channel="http", body=b"{", content_type="application/json"
        )
        intake_services.process_submission(broken.pk)

        response = logged_in_client(marketing).get(HOME)

    broken.refresh_from_db()
    assert broken.state == SubmissionState.QUARANTINED
    assert [(row.name, row.count) for row in response.context["intake"]] == [
        ("Web", 2),
        ("Fair", 1),
    ]
    assert response.context["intake_total"] == 3
    assert response.context["quarantined"] == (1, False)
    assert "Quarantined submissions" in response.text


def test_a_partner_sees_only_its_own_leads(
    logged_in_client, source, partner_user, partner_org, other_partner_org
):
    ours = make_lead(source, partner=partner_org, last_name="Ours")
    make_lead(source, partner=other_partner_org, last_name="Theirs")

    response = logged_in_client(partner_user).get(HOME)

    assert [lead.pk for lead in response.context["recent"]] == [ours.pk]
    assert response.context["open"] == home.Capped(1, False)
    assert "Theirs" not in response.text
    assert "intake" not in response.context
    assert reverse("leads:lead-create") not in response.text


def test_the_home_page_speaks_dutch(logged_in_client, rep):
    set_user_language(rep, language="nl")

    response = logged_in_client(rep).get(HOME)

    assert "Wat vandaag je aandacht vraagt." in response.text
