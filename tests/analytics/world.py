"""A hand-made November 2026 (Amsterdam) whose every figure is worked out in the tests by hand.

    lead  source/campaign  received (AMS)    who       what happened
    L1    Fair / Autumn    Mon 2 Nov 10:00   rep       contacted 14:00, quote sent 5 Nov,
                                                       won 20 Nov: €20,000
    L2    Fair / Autumn    Tue 3 Nov 09:00   rep       contacted Thu 5 Nov 09:00 (late),
                                                       quote sent 6 Nov, lost 25 Nov
    L3    Fair / –         Tue 10 Nov 10:00  teammate  never contacted (late by now)
    L4    Broker           Thu 12 Nov 09:00  –         new, not sales-ready
    L5    Broker           Thu 12 Nov 10:00  teammate  contacted Fri 09:00, won Fri 11:00
                                                       without a quote: $10,000
    L6    Broker           Fri 30 Oct 10:00  rep       won 2 Nov: €5,000 (received in October)
    L7    Fair / Autumn    Sun 15 Nov 12:00  –         merged into L1 on 16 Nov (a duplicate)

Costs: Autumn €1,000 on 5 Nov, €3,100 over 16 Oct–15 Nov (31 days, 15 in November: €1,500),
$200 on 7 Nov; Broker charges €20 a lead.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import time_machine

from leadloop.accounts.actors import SYSTEM
from leadloop.analytics.services import facts
from leadloop.assessment.dedup.services import merge_leads
from leadloop.leads import services as lead_services
from leadloop.leads.models import Lead, LeadStatus, LostReason
from leadloop.sales.services import clocks, quotes
from tests.factories.leads import make_campaign, make_lead, make_source

AMS = ZoneInfo("Europe/Amsterdam")
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=AMS)


def ams(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=AMS)


@dataclass
class World:
    fair: object
    broker: object
    autumn: object
    leads: dict[str, Lead]


def _at(when: dt.datetime, step, *args, **kwargs):
    with time_machine.travel(when, tick=False):
        result = step(*args, **kwargs)
        return result


def _assigned(source, rep, team, when, **fields) -> Lead:
    with time_machine.travel(when, tick=False):
        lead = make_lead(source, assigned_to=rep, team=team, **fields)
        clocks.follow([lead.pk])
    return lead


def _move(lead: Lead, when: dt.datetime, to: str, **more) -> Lead:
    with time_machine.travel(when, tick=False):
        moved = lead_services.transition(Lead.objects.get(pk=lead.pk), to=to, by=SYSTEM, **more)
        clocks.follow([lead.pk])
    return moved


def _quote_sent(lead: Lead, when: dt.datetime, amount: str) -> None:
    with time_machine.travel(when, tick=False):
        quote = quotes.add_quote(Lead.objects.get(pk=lead.pk), by=SYSTEM, amount=amount)
        quotes.send_quote(quote, by=SYSTEM)
        clocks.follow([lead.pk])


def build(rep, teammate, team) -> World:
    fair = make_source("Fair")
    broker = make_source("Broker")
    autumn = make_campaign(fair, "Autumn")
    lead_services.set_source_cost(broker, cost_per_lead="20", by=SYSTEM)
    lead_services.add_campaign_cost(
        autumn, incurred_on=dt.date(2026, 11, 5), amount="1000", by=SYSTEM
    )
    lead_services.add_campaign_cost(
        autumn,
        incurred_on=dt.date(2026, 10, 16),
        until_on=dt.date(2026, 11, 15),
        amount="3100",
        by=SYSTEM,
    )
    lead_services.add_campaign_cost(
        autumn, incurred_on=dt.date(2026, 11, 7), amount="200", currency="USD", by=SYSTEM
    )
    lost = LostReason.objects.create(name="Too expensive")

    l1 = _assigned(fair, rep, team, ams(2026, 11, 2, 10, 0), campaign_id=autumn.pk)
    _move(l1, ams(2026, 11, 2, 14, 0), LeadStatus.CONTACTED)
    _quote_sent(l1, ams(2026, 11, 5, 10, 0), "19000")
    _move(l1, ams(2026, 11, 20, 10, 0), LeadStatus.WON, order_value=Decimal("20000"))

    l2 = _assigned(fair, rep, team, ams(2026, 11, 3, 9, 0), campaign_id=autumn.pk)
    _move(l2, ams(2026, 11, 5, 9, 0), LeadStatus.CONTACTED)
    _quote_sent(l2, ams(2026, 11, 6, 10, 0), "8000")
    _move(l2, ams(2026, 11, 25, 10, 0), LeadStatus.LOST, lost_reason=lost)

    l3 = _assigned(fair, teammate, team, ams(2026, 11, 10, 10, 0))

    l4 = _at(ams(2026, 11, 12, 9, 0), make_lead, broker)

    l5 = _assigned(broker, teammate, team, ams(2026, 11, 12, 10, 0), currency="USD")
    _move(l5, ams(2026, 11, 13, 9, 0), LeadStatus.CONTACTED)
    _move(l5, ams(2026, 11, 13, 11, 0), LeadStatus.WON, order_value=Decimal("10000"))

    l6 = _assigned(broker, rep, team, ams(2026, 10, 30, 10, 0))
    _move(l6, ams(2026, 11, 2, 9, 30), LeadStatus.CONTACTED)
    _move(l6, ams(2026, 11, 2, 9, 45), LeadStatus.WON, order_value=Decimal("5000"))

    l7 = _at(ams(2026, 11, 15, 12, 0), make_lead, fair, campaign_id=autumn.pk)
    with time_machine.travel(ams(2026, 11, 16, 9, 0), tick=False):
        merge_leads(Lead.objects.get(pk=l1.pk), Lead.objects.get(pk=l7.pk), by=SYSTEM)

    with time_machine.travel(NOW, tick=False):
        facts.rebuild()
    leads = {"L1": l1, "L2": l2, "L3": l3, "L4": l4, "L5": l5, "L6": l6, "L7": l7}
    return World(fair=fair, broker=broker, autumn=autumn, leads=leads)
