"""`lead_visibility_within`: the same rows as `lead_visibility(actor) & subset`, for every role."""

from __future__ import annotations

import pytest
from django.db.models import Q

from leadloop.accounts.selectors import lead_visibility, lead_visibility_within
from leadloop.leads.models import Lead
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead


@pytest.mark.parametrize(
    "who", ["admin", "marketing", "manager", "rep", "other_rep", "partner_user", "teamless_rep"]
)
def test_within_keeps_exactly_the_rows_of_visibility_and_subset(
    who, request, source, rep, teammate, team, other_team, partner_org
):
    actor = make_user() if who == "teamless_rep" else request.getfixturevalue(who)
    for assigned_to, to_team in [(rep, None), (teammate, None), (None, team), (None, other_team)]:
        for last_name in ("Kept", "Other"):
            make_lead(source, assigned_to=assigned_to, team=to_team, last_name=last_name)
    make_lead(source, partner=partner_org, last_name="Kept")
    subset = Q(last_name="Kept")

    expected = set(Lead.objects.filter(lead_visibility(actor) & subset).values_list("pk"))
    got = set(Lead.objects.filter(lead_visibility_within(actor, subset)).values_list("pk"))

    assert got == expected
    seen = {"admin": 5, "marketing": 5, "manager": 3, "rep": 2, "other_rep": 1, "partner_user": 1}
    assert len(got) == seen.get(who, 0)
