import pytest

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.distribution import services
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead


def ready_lead(source, **fields) -> Lead:
    """A sales-ready lead nobody has yet (as intake leaves one the readiness rule passed)."""
    lead = make_lead(source, **fields)
    if lead.status != LeadStatus.SALES_READY:
        if lead.status == LeadStatus.NURTURING:
            lead = lead_services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
        else:
            lead = lead_services.transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
    return Lead.objects.get(pk=lead.pk)


def publish(rules, default, *, by=SYSTEM, note=""):
    return services.publish(by=by, note=note, document={"rules": rules, "default": default})


def team_push(team, mode="push"):
    return {"kind": "team", "team_id": team.pk, "mode": mode}


@pytest.fixture
def reps(team):
    """Three reps in team North, named so the order of creation is not the alphabet's."""
    return [
        make_user(Role.SALES_REP, team=team, username=name, first_name=name.title(), last_name="R")
        for name in ("noor", "daan", "sem")
    ]
