"""The world the demo plays in: its users, sources, campaigns, countries, odds and rhythms."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from leadloop.accounts.models import Role
from leadloop.leads.models import (
    ActivityKind,
    ChannelKind,
    LeadStatus,
)

DEMO_PASSWORD = "leadloop-demo"  # noqa: S105 (printed to the user on purpose)
CHUNK = 5_000
S = LeadStatus
CENT = Decimal("0.01")

# (username, role, first name, last name, team); every demo user gets DEMO_PASSWORD.
USERS = (
    ("admin", Role.ADMIN, "Ada", "Admin", None),
    ("marketing", Role.MARKETING, "Mila", "Jansen", None),
    ("manager.north", Role.SALES_MANAGER, "Sanne", "de Vries", "Sales North"),
    ("manager.south", Role.SALES_MANAGER, "Tom", "Bakker", "Sales South"),
    ("rep.noor", Role.SALES_REP, "Noor", "Visser", "Sales North"),
    ("rep.daan", Role.SALES_REP, "Daan", "Smit", "Sales North"),
    ("rep.emma", Role.SALES_REP, "Emma", "Meijer", "Sales North"),
    ("rep.liam", Role.SALES_REP, "Liam", "O'Brien", "Sales North"),
    ("rep.julia", Role.SALES_REP, "Julia", "Mulder", "Sales South"),
    ("rep.sem", Role.SALES_REP, "Sem", "de Boer", "Sales South"),
    ("rep.olivia", Role.SALES_REP, "Olivia", "Hughes", "Sales South"),
    ("rep.lucas", Role.SALES_REP, "Lucas", "Dekker", "Sales South"),
    # Telemarketing: works the brochure follow-up calls (nurture examples).
    ("agent.fenna", Role.AGENT, "Fenna", "Kok", None),
    # A lead buyer's user: the buyer portal of "WarmtePomp Direct" (selling examples).
    ("buyer", Role.BUYER, "Bram", "Koper", None),
)
PARTNER_NAME = "Van Dijk Installatiepartners"
PARTNER_USER = ("partner", "Ruben", "van Dijk")
# What the partner's users see of their leads (accounts.lead_fields): contact details, the
# address, the BANT answers and the deal numbers; not the source, grade, scores, findings,
# fraud or device data, the raw payload or the staff's notes. Log in as "partner" to see it.
PARTNER_FIELDS = (
    "name",
    "email",
    "phone",
    "job_title",
    "language",
    "company",
    "street",
    "postal_code",
    "city",
    "country",
    "bant",
    "revenue",
    "extra",
)

# (name, kind, default country, default language, share of all leads)
SOURCES = (
    ("Website contact form", ChannelKind.WEB_FORM, "NL", "nl", 34),
    ("LeadMarkt HTTP POST", ChannelKind.HTTP_POST, "NL", "nl", 18),
    ("info@ mailbox", ChannelKind.EMAIL, "NL", "nl", 9),
    ("Tender RSS feed", ChannelKind.RSS, "GB", "en", 3),
    ("Trade fair FTP drop", ChannelKind.FTP, "NL", "nl", 5),
    ("CRM import", ChannelKind.IMPORT, "NL", "nl", 8),
    ("Manual entry", ChannelKind.MANUAL, "NL", "nl", 6),
    ("Comparison site API", ChannelKind.API, "GB", "en", 17),
)
# Sources paid per lead (a lead marketplace, a comparison site): their price, in euros.
PRICE_PER_LEAD = {"LeadMarkt HTTP POST": "35.00", "Comparison site API": "240.00"}
# The comparison site sends homeowners after small jobs at a B2B price per lead: its deals are
# this share of the usual size, so it does not pay (ROI below 1 on the analytics pages), the
# case a marketing manager must be shown.
DEAL_SIZE = {"Comparison site API": Decimal("0.08")}
# Campaigns per source: (name, first day ago, length in days, budget, daily costs?)
CAMPAIGNS = {
    ChannelKind.WEB_FORM: (
        ("Google Ads zonnepanelen", 360, 360, 60_000, True),
        ("Google Ads warmtepompen", 300, 240, 45_000, True),
        ("LinkedIn B2B laadpalen", 250, 120, 18_000, True),
        ("Meta voorjaarsactie", 200, 60, 12_000, True),
        ("Nieuwsbrief Q3", 150, 90, 2_500, False),
        ("SEO landingspagina's", 365, 365, 9_000, False),
    ),
    ChannelKind.HTTP_POST: (
        ("LeadMarkt zonnepanelen", 340, 300, 40_000, True),
        ("LeadMarkt warmtepompen", 220, 200, 30_000, True),
        ("LeadMarkt isolatie", 120, 110, 8_000, True),
        ("LeadMarkt zakelijk", 90, 80, 10_000, True),
    ),
    ChannelKind.EMAIL: (
        ("Winter mailing", 330, 45, 3_000, False),
        ("Summer mailing", 150, 45, 3_000, False),
        ("Reactivation mailing", 60, 50, 1_500, False),
    ),
    ChannelKind.API: (
        ("Comparison UK heat pumps", 300, 290, 35_000, True),
        ("Comparison UK solar", 200, 190, 25_000, True),
        ("Comparison US pilot", 100, 90, 15_000, True),
    ),
    ChannelKind.RSS: (("Public tenders 2025", 365, 365, 1_200, False),),
    ChannelKind.FTP: (("Energiebeurs Utrecht", 180, 4, 14_000, False),),
    ChannelKind.IMPORT: (("Legacy CRM migration", 365, 30, 0, False),),
    ChannelKind.MANUAL: (("Referrals", 365, 365, 0, False),),
}
UTM = {
    ChannelKind.WEB_FORM: (("google", "cpc"), ("linkedin", "social"), ("facebook", "social")),
    ChannelKind.HTTP_POST: (("leadmarkt", "affiliate"),),
    ChannelKind.EMAIL: (("newsletter", "email"),),
    ChannelKind.API: (("comparison", "referral"),),
}
LOST_REASONS = (
    "Price too high",
    "Chose a competitor",
    "No budget",
    "No response",
    "Timing not right",
    "Not the decision maker",
)
PRODUCTS = ("solar panels", "heat pump", "home battery", "charging station", "insulation")
JOBS = (
    "Directeur",
    "Eigenaar",
    "Facilitair manager",
    "Inkoper",
    "Office manager",
    "Operations manager",
    "Financieel manager",
    "Homeowner",
    "Facilities manager",
    "Procurement lead",
    "Managing director",
    "Sustainability officer",
    "",
)
INDUSTRIES = ("Retail", "Logistics", "Hospitality", "Healthcare", "Agriculture", "Real estate")
NOTES = (
    "Wants a second quote for comparison.",
    "Roof faces south-west; asked for photos.",
    "Decision expected after the board meeting.",
    "Interested in subsidy options.",
    "Prefers contact by e-mail.",
)
CALLS = (
    "Discussed requirements and planning.",
    "Voicemail left, will try again.",
    "Went through the offer line by line.",
    "Agreed on a site visit.",
)

# Country profiles: Faker locale, share of B2C leads, language, trunk prefix, e-mail domains, and
# phone ranges as (country code, leading digits, random digits to add) that libphonenumber accepts.
COUNTRIES = {
    "NL": (
        "nl_NL",
        58,
        "nl",
        "0",
        ("gmail.com", "ziggo.nl", "kpnmail.nl", "hotmail.nl", "outlook.com"),
        (("31", "61", 7), ("31", "62", 7), ("31", "64", 7), ("31", "20", 7), ("31", "30", 7)),
    ),
    "BE": (
        "nl_BE",
        10,
        "nl",
        "0",
        ("gmail.com", "telenet.be", "skynet.be", "hotmail.com"),
        (("32", "47", 7), ("32", "48", 7), ("32", "49", 7)),
    ),
    "GB": (
        "en_GB",
        18,
        "en",
        "0",
        ("gmail.com", "btinternet.com", "outlook.com", "yahoo.co.uk"),
        (("44", "74", 8), ("44", "75", 8), ("44", "78", 8), ("44", "203", 7)),
    ),
    "US": (
        "en_US",
        14,
        "en",
        "",
        ("gmail.com", "yahoo.com", "outlook.com", "icloud.com"),
        # An American exchange code starts with 2-9, hence the fourth digit in each range.
        (("1", "2125", 6), ("1", "2127", 6), ("1", "4153", 6), ("1", "6174", 6), ("1", "3128", 6)),
    ),
}
TLD = {"NL": "nl", "BE": "be", "GB": "co.uk", "US": "com"}
LEGAL_FORM = {"NL": " B.V.", "BE": " BV", "GB": " Ltd", "US": " Inc."}

# Status weights by the lead's age (under 2 days, under 2 weeks, older), in LeadStatus order.
STATUS_WEIGHTS = (
    (35, 20, 15, 15, 8, 0, 0, 0, 7),
    (5, 25, 5, 12, 18, 10, 5, 8, 12),
    (1, 22, 2, 3, 7, 6, 14, 25, 20),
)
# Possible histories per final status; "@" is the routing step (assigned entry + move to assigned).
PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    S.NEW: ((),),
    S.NURTURING: ((S.NURTURING,),),
    S.SALES_READY: ((S.SALES_READY,), (S.NURTURING, S.SALES_READY)),
    S.ASSIGNED: ((S.SALES_READY, "@"), ("@",)),
    S.CONTACTED: ((S.SALES_READY, "@", S.CONTACTED),),
    S.QUOTED: ((S.SALES_READY, "@", S.CONTACTED, S.QUOTED),),
    S.WON: (
        (S.SALES_READY, "@", S.CONTACTED, S.QUOTED, S.WON),
        (S.SALES_READY, "@", S.CONTACTED, S.WON),
    ),
    S.LOST: (
        (S.NURTURING, S.LOST),
        (S.SALES_READY, "@", S.LOST),
        (S.SALES_READY, "@", S.CONTACTED, S.LOST),
        (S.SALES_READY, "@", S.CONTACTED, S.QUOTED, S.LOST),
    ),
    S.DISQUALIFIED: ((S.DISQUALIFIED,), (S.NURTURING, S.DISQUALIFIED)),
}
# Hours before each step, (low, high): the pipeline is quick, people take days.
STEP_HOURS = {
    S.NURTURING: (0.01, 0.2),
    S.SALES_READY: (0.01, 0.5),
    S.DISQUALIFIED: (0.01, 48),
    "@": (0.2, 8),
    S.CONTACTED: (2, 72),
    S.QUOTED: (24, 240),
    S.WON: (48, 720),
    S.LOST: (48, 720),
}
OWNED = frozenset({S.ASSIGNED, S.CONTACTED, S.QUOTED, S.WON, S.LOST})
PROBABILITY: dict[str, int] = {S.ASSIGNED: 20, S.CONTACTED: 40, S.QUOTED: 60}


# The odds of a closed lead being won (log-odds, added up): most leads are lost or disqualified;
# seniority, company size, country, source, product and keenness move the odds.
WIN_BASE = -1.8
SENIORITY = (
    ("directeur", 1.0),
    ("director", 1.0),
    ("eigenaar", 0.9),
    ("manager", 0.4),
    ("inkoper", 0.2),
    ("procurement", 0.2),
    ("sustainability", 0.3),
    ("homeowner", 0.0),
)
SIZE_ODDS = {5: -0.3, 12: 0.0, 40: 0.2, 85: 0.3, 250: 0.5, 1200: 0.6}
COUNTRY_ODDS = {"NL": 0.3, "BE": 0.1, "GB": -0.1, "US": -0.5}
SOURCE_ODDS = {
    "Website contact form": 0.3,
    "LeadMarkt HTTP POST": -0.5,
    "info@ mailbox": 0.1,
    "Tender RSS feed": -0.4,
    "Trade fair FTP drop": 0.5,
    "Manual entry": 0.7,
    "Comparison site API": -0.3,
}
PRODUCT_ODDS = {
    "heat pump": 0.3,
    "solar panels": 0.2,
    "home battery": 0.0,
    "charging station": -0.2,
    "insulation": -0.4,
}
# Behaviour before the first contact: (kind, mean count for an average person).
ENGAGEMENT_RATES = (
    (ActivityKind.FORM_SUBMITTED, 0.15),
    (ActivityKind.EMAIL_OPENED, 0.3),
    (ActivityKind.EMAIL_CLICKED, 0.1),
    (ActivityKind.PAGE_VISIT, 0.3),
    (ActivityKind.SURVEY_ANSWERED, 0.05),
)
ENGAGEMENT_KEYS = {
    ActivityKind.EMAIL_OPENED: "mailing",
    ActivityKind.EMAIL_CLICKED: "link",
    ActivityKind.PAGE_VISIT: "path",
    ActivityKind.SURVEY_ANSWERED: "survey",
}
ENGAGEMENT_DETAILS = {
    ActivityKind.EMAIL_OPENED: ("Welcome", "Subsidies 2025", "Customer stories"),
    ActivityKind.EMAIL_CLICKED: ("/offerte", "/subsidie", "/klantverhalen"),
    ActivityKind.PAGE_VISIT: ("/prijzen", "/warmtepompen", "/zonnepanelen", "/contact"),
    ActivityKind.SURVEY_ANSWERED: ("Roof and house", "Energy use"),
}
CLOSED = frozenset({S.WON, S.LOST, S.DISQUALIFIED})


def _poisson(rng: Any, mean: float) -> int:
    """A Poisson draw for a small mean (Knuth), from the seeded generator."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 14, 12, 14, 15, 14, 12, 9, 7, 7, 6, 4, 3, 2)
GRADE_WEIGHTS: dict[str, tuple[int, int, int, int]] = {
    S.WON: (40, 35, 20, 5),
    S.LOST: (10, 25, 35, 30),
    S.DISQUALIFIED: (2, 8, 30, 60),
    S.QUOTED: (35, 35, 25, 5),
}
