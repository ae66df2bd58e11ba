"""No page is wider than the screen: every role's main pages, in English and Dutch, on a laptop
(1,280 px) and a phone (390 px).

One pass visits them all (one live server, one logged-in browser context per role and
language) and saves a screenshot of each to test-results/overflow/; each page is then its own
test, so a failure names the role, the language, the width and the page.

A page fails when the document scrolls sideways or when a visible element reaches past the
right edge of the viewport. An element inside a container that scrolls on purpose
(`overflow-x: auto`, such as a table in its wrapper) is fine on the phone; on the laptop such a
container must not need to scroll.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.intake import services as intake_services
from leadloop.leads.models import Lead
from leadloop.sales.services import quotes, steps
from tests.browser.conftest import WATCH_VIOLATIONS
from tests.factories.accounts import make_partner, make_team, make_user
from tests.factories.assessment import find_pair
from tests.factories.leads import make_lead, make_source

# Every case is a transactional test (flushed after it), but only the first one builds the rows
# and visits the pages; the others read its results.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("test-results/overflow")
WIDTHS = {1280: 800, 390: 844}
LANGUAGES = ("en", "nl")

# The pages each role reaches from its menu, plus one lead and the new-lead form.
PATHS = {
    "home": "/",
    "leads": "/leads/",
    "lead": "/leads/{lead}/",
    "lead-new": "/leads/new/",
    "lead-edit": "/leads/{lead}/edit/",
    "review": "/assessment/review/",
    "duplicates": "/assessment/duplicates/",
    "duplicate": "/assessment/duplicates/{pair}/",
    "intake": "/intake/",
    "submission": "/intake/{submission}/",
    "imports": "/intake/imports/",
    "forms": "/forms/",
    "sources": "/sources/",
    "campaigns": "/campaigns/",
    "organizations": "/organizations/",
    "audit": "/audit/",
    "settings": "/settings/",
    "users": "/settings/users/",
    "teams": "/settings/teams/",
    "partners": "/settings/partners/",
    "api-keys": "/account/api-keys/",
    "my-day": "/sales/my-day/",
    "pipeline": "/sales/pipeline/",
    "forecast": "/sales/pipeline/forecast/",
}
STAFF = ["home", "leads", "lead", "lead-new", "lead-edit", "review", "pipeline", "forecast"]
CONFIGURING = ["duplicates", "duplicate", "intake", "submission", "imports", "forms", "sources"]
ROLE_PAGES = {
    "admin": [
        *STAFF,
        *CONFIGURING,
        *("campaigns", "organizations", "audit", "settings", "users", "teams", "partners"),
        "api-keys",
        "my-day",
    ],
    "marketing": [*STAFF, *CONFIGURING, "campaigns", "organizations"],
    "manager": [*STAFF, "organizations", "my-day"],
    "rep": [*STAFF, "my-day"],
    "partner": ["home", "leads", "lead", "lead-edit"],
}
ROLES = {
    "admin": Role.ADMIN,
    "marketing": Role.MARKETING,
    "manager": Role.SALES_MANAGER,
    "rep": Role.SALES_REP,
    "partner": Role.PARTNER,
}

# Runs in the page: what reaches past the right edge, outermost offenders first.
FIND_OVERFLOW = """
(allowScrollers) => {
  const width = window.innerWidth;
  const found = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > width) found.push(`document is ${doc.scrollWidth}px wide`);
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className.trim()
      ? "." + el.className.trim().split(/\\s+/).join(".") : "");
  const reported = new Set();
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const style = getComputedStyle(el);
    if (style.visibility === "hidden") continue;
    if (!allowScrollers && (style.overflowX === "auto" || style.overflowX === "scroll")
        && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
    }
    if (box.right <= width + 1) continue;
    let inside = false;
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (reported.has(up)) { inside = true; break; }
      const s = getComputedStyle(up);
      if (["auto", "scroll"].includes(s.overflowX) && allowScrollers) { inside = true; break; }
      const clips = ["hidden", "clip"].includes(s.overflowX);
      if (clips && up.getBoundingClientRect().right <= width + 1) { inside = true; break; }
    }
    if (inside) continue;
    reported.add(el);
    found.push(`${name(el)} ends at ${Math.round(box.right)}px`);
  }
  return found.slice(0, 8);
}
"""


@dataclass(frozen=True)
class Visit:
    status: int
    problems: list[str]


_results: dict[tuple[str, str, int, str], Visit] = {}
_broken: list[str] = []


def _world() -> dict[str, Any]:
    """Users of every role and the rows their pages show, made through the real services."""
    team = make_team("North")
    partner_org = make_partner("Partner A")
    manager = make_user(Role.SALES_MANAGER, username="manager", team=team)
    make_team("North", manager=manager)
    rep = make_user(Role.SALES_REP, username="rep", team=team, first_name="Reinier")
    for key, role in ROLES.items():
        if key not in ("manager", "rep"):
            make_user(role, username=key, partner=partner_org if key == "partner" else None)
    source = make_source("Website met een lange naam")
    long = "Geïnteresseerd in zonnepanelen, een warmtepomp en thuisbatterijen voor het hele pand"
    leads = {
        "rep": make_lead(
            source,
            assigned_to=rep,
            first_name="Annemarie",
            last_name="van der Heijden-Bosschaert",
            email="annemarie.vanderheijden-bosschaert@voorbeeldbedrijf.example.com",
            phone="0612345678",
            company_name="Installatiebedrijf De Zonnige Toekomst B.V.",
            extra={"interesse": long, "nieuwsbrief": True},
        ),
        "partner": make_lead(
            source, partner=partner_org, email="bo@example.com", phone="0201234567"
        ),
    }
    # My day: an overdue call with a long title on the rep's lead.
    steps.add_task(
        leads["rep"],
        by=SYSTEM,
        kind="call",
        due_at=timezone.now() - dt.timedelta(hours=2),
        owner=rep,
        title=long,
    )
    # A deal as large as a quote may be, in a currency with a long sign in Dutch ("US$").
    quotes.add_quote(leads["rep"], by=SYSTEM, amount="999999999.99", currency="USD")
    for n in range(4):
        make_lead(source, team=team, first_name=f"Pool{n}", email=f"pool{n}@example.com")
    twin = make_lead(source, first_name="Ann", last_name="Smit", phone="0687654321")
    pair = find_pair(
        make_lead(source, first_name="Ann", last_name="Smit", phone="0687654321"), twin
    )
    # Held leads with long names and addresses, as the fraud stage holds them, in the rep's pool.
    for n in range(3):
        body = {
            "first_name": "test",
            "last_name": "van der Heijden-Bosschaert-Oosterhuis",
            "email": f"annemarie.vanderheijden-bosschaert{n}@yopmail.com",
        }
        held = intake_services.receive(
            source=source, channel="http", body=json.dumps(body).encode(),
            content_type="application/json",
        )  # fmt: skip
        lead_id = intake_services.process_submission(held.pk).lead_id
        Lead.objects.filter(pk=lead_id).update(team=team)
    broken = intake_services.receive(
        source=source, channel="http", body=b'{"email": "broken', content_type="application/json"
    )
    intake_services.process_submission(broken.pk)
    return {"leads": leads, "pair": pair.pk, "submission": broken.pk}


def _path(page: str, role: str, world: dict[str, Any]) -> str:
    lead = world["leads"]["partner" if role == "partner" else "rep"].pk
    return PATHS[page].format(lead=lead, pair=world["pair"], submission=world["submission"])


def _visit_everything(request: pytest.FixtureRequest) -> None:
    live_server = request.getfixturevalue("live_server")
    browser = request.getfixturevalue("browser")
    log_in = request.getfixturevalue("log_in")
    world = _world()
    SHOTS.mkdir(parents=True, exist_ok=True)
    violations: list[str] = []
    for role, pages in ROLE_PAGES.items():
        for lang in LANGUAGES:
            context = browser.new_context(locale="en-GB", timezone_id="Europe/Amsterdam")
            page = context.new_page()
            page.expose_function("__reportViolation", lambda text: violations.append(text))
            page.add_init_script(WATCH_VIOLATIONS)
            log_in(page, role)
            context.add_cookies(
                [{"name": "django_language", "value": lang, "url": live_server.url}]
            )
            for width, height in WIDTHS.items():
                page.set_viewport_size({"width": width, "height": height})
                for name in pages:
                    response = page.goto(live_server.url + _path(name, role, world))
                    page.wait_for_load_state("load")
                    page.screenshot(
                        path=SHOTS / f"{role}-{lang}-{width}-{name}.png", full_page=True
                    )
                    problems = page.evaluate(FIND_OVERFLOW, width < 600)
                    _results[role, lang, width, name] = Visit(
                        response.status if response else 0, problems
                    )
            context.close()
    assert violations == []


@pytest.fixture
def visits(request):
    if _broken:
        pytest.fail(f"the visit failed: {_broken[0]}")
    if not _results:
        try:
            _visit_everything(request)
        except Exception as exc:
            _broken.append(repr(exc))
            raise
    return _results


def _cases() -> list[Any]:
    cases = []
    for role, pages in ROLE_PAGES.items():
        for lang in LANGUAGES:
            for width in WIDTHS:
                for name in pages:
                    case_id = f"{role}-{lang}-{width}-{name}"
                    cases.append(pytest.param(role, lang, width, name, id=case_id))
    return cases


@pytest.mark.parametrize(("role", "lang", "width", "name"), _cases())
def test_the_page_fits_the_screen(visits, role, lang, width, name):
    visit = visits[role, lang, width, name]

    assert visit.status == 200
    assert visit.problems == []
