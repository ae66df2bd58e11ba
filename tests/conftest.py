"""Shared actors and clients. Data is made through the real services (tests/factories)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from leadloop.accounts import services as accounts_services
from leadloop.accounts.models import Role, User
from tests.factories.accounts import make_partner, make_team, make_user
from tests.factories.leads import make_source

SHARED_DATA = os.environ.get("LEADLOOP_SHARED_DATA") or os.path.join(
    os.path.dirname(__file__), "..", "..", "shared", "data"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _missing_shared_data(where: str) -> str:
    return (
        f"{where} is missing: ../shared/data (the real-world files about 515 cases read) must be "
        f"checked out beside the repository in CI; set LEADLOOP_SHARED_DATA to its folder."
    )


def shared_data_path(*parts: str) -> str:
    """A file in ../shared/data: the one way tests reach it.

    Absent in a user's clone, the test is skipped with the reason; absent in CI (`CI=true`) the
    test fails, so the cases cannot silently turn into skips.
    """
    path = os.path.join(SHARED_DATA, *parts)
    if not os.path.exists(path):
        where = f"../shared/data/{'/'.join(parts)}"
        if _in_ci():
            pytest.fail(_missing_shared_data(where), pytrace=False)
        pytest.skip(f"{where} is not present in this checkout")
    return path


def shared_data_cases(load: Callable[[], list[Any]]) -> list[Any]:
    """Parameters read from ../shared/data at collection: one skipped case when it is absent.

    In CI the absence fails the collection (see `shared_data_path`).
    """
    try:
        return load()
    except pytest.skip.Exception as skipped:
        return [pytest.param(None, marks=pytest.mark.skip(reason=str(skipped.msg)))]


def pytest_sessionstart(session: pytest.Session) -> None:
    if _in_ci() and not os.path.isdir(SHARED_DATA):
        raise pytest.UsageError(_missing_shared_data(f"CI=true but {os.path.abspath(SHARED_DATA)}"))


# Fixtures through which a test reaches the database (pytest-django's, and live_server's).
_DATABASE_FIXTURES = frozenset(
    {
        "db",
        "transactional_db",
        "django_db_reset_sequences",
        "django_db_serialized_rollback",
        "live_server",
    }
)
# A module that starts processes or opens connections of its own may reach the database
# without pytest-django knowing.
_OWN_DATABASE_ACCESS = (
    "DATABASE_URL",
    "fresh_database",
    "migrated_sqlite_copy",
    "subprocess",
    "psycopg",
    "getfixturevalue",
)
_module_reaches_database: dict[str, bool] = {}


def _reaches_database(item: pytest.Item) -> bool:
    if item.get_closest_marker("django_db") or item.get_closest_marker("server"):
        return True
    if _DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
        return True
    path = str(item.path)
    if path not in _module_reaches_database:
        with open(path, encoding="utf-8") as source:
            text = source.read()
        _module_reaches_database[path] = any(word in text for word in _OWN_DATABASE_ACCESS)
    return _module_reaches_database[path]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL (`DATABASE_URL` set, as scripts/test.sh's second run does) run only the
    tests that reach a database: the others (parsers, permissions tables, docs checks) ran on
    SQLite a minute before and do not touch either, so repeating them only cost the suite time.
    Nor those marked `own_sqlite`, whose processes use an SQLite database of their own.
    `LEADLOOP_TEST_EVERYTHING=1` runs them anyway."""
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return
    if os.environ.get("LEADLOOP_TEST_EVERYTHING", "").strip() in ("1", "true", "yes"):
        return
    keep = [
        item
        for item in items
        if _reaches_database(item) and not item.get_closest_marker("own_sqlite")
    ]
    if len(keep) < len(items):
        kept = set(map(id, keep))
        config.hook.pytest_deselected(items=[item for item in items if id(item) not in kept])
        items[:] = keep


@pytest.fixture(autouse=True)
def _english_unless_a_test_says_otherwise():
    # A request in Dutch leaves Dutch active in the thread (LocaleMiddleware activates, nothing
    # deactivates), so the next test on the same worker would read Dutch messages.
    from django.utils import translation

    translation.activate("en")
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _no_pipeline_totals_left_by_a_flush(request):
    # Django empties a transactional test's tables one by one, in no set order (a set of names
    # on SQLite): the pipeline totals' triggers may write rows for leads deleted after the
    # totals' own table was emptied. The next transactional test starts from empty totals.
    if "transactional_db" in request.fixturenames:
        request.getfixturevalue("transactional_db")
        from leadloop.sales.models import PipelineTally

        PipelineTally.objects.all().delete()


@pytest.fixture(autouse=True)
def _fresh_routing_rules():
    # The routing rules in force are cached per process for a few seconds; a test that
    # published rules must not leave them to the next test (its teams are gone with its data).
    from leadloop.distribution import selectors

    selectors.forget_active()
    yield
    selectors.forget_active()


@pytest.fixture(autouse=True)
def _fresh_buyers():
    # The buyers' definitions are cached per process for a few seconds, like the rules.
    from leadloop.distribution.selling.services import market

    market.forget_buyers()
    yield
    market.forget_buyers()


@pytest.fixture(autouse=True)
def _fresh_webhook_subscriptions():
    # Which events have subscribers is cached per process for a few seconds, like the rules.
    from leadloop.webhooks.services import outbox

    outbox.forget()
    yield
    outbox.forget()


@pytest.fixture(autouse=True)
def _local_test_servers_are_reachable(settings):
    # Feeds, FTP and IMAP are refused on private addresses in production; the tests' own
    # servers listen on 127.0.0.1. tests/intake/test_network.py checks the refusal itself.
    settings.LEADLOOP_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture(autouse=True)
def _fresh_assessment_rules():
    # The assessment configuration is cached per process for a few seconds; a test's rules (and
    # the rollback of the previous test's) must be read afresh.
    from leadloop.accounts import defaults
    from leadloop.assessment.dedup.matching import model as match_model
    from leadloop.assessment.predictive import services as predictive
    from leadloop.assessment.scoring import rules

    rules.invalidate()
    predictive.invalidate()
    defaults.invalidate()
    match_model.invalidate()
    yield
    rules.invalidate()
    predictive.invalidate()
    defaults.invalidate()
    match_model.invalidate()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for production; tests create many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def team(db):
    return make_team("North")


@pytest.fixture
def other_team(db):
    return make_team("South")


@pytest.fixture
def partner_org(db):
    return make_partner("Partner A")


@pytest.fixture
def other_partner_org(db):
    return make_partner("Partner B")


@pytest.fixture
def admin(db):
    return make_user(Role.ADMIN, username="admin")


@pytest.fixture
def marketing(db):
    return make_user(Role.MARKETING, username="marketing")


@pytest.fixture
def manager(db, team):
    user = make_user(Role.SALES_MANAGER, username="manager", team=team)
    make_team(team.name, manager=user)
    return user


@pytest.fixture
def rep(db, team):
    return make_user(Role.SALES_REP, username="rep", team=team)


@pytest.fixture
def teammate(db, team):
    return make_user(Role.SALES_REP, username="teammate", team=team)


@pytest.fixture
def other_rep(db, other_team):
    return make_user(Role.SALES_REP, username="other_rep", team=other_team)


@pytest.fixture
def agent(db):
    """A telemarketing agent (on no call list until a test puts it on one)."""
    return make_user(Role.AGENT, username="agent", first_name="Fenna", last_name="Kok")


@pytest.fixture
def partner_user(db, partner_org):
    return make_user(Role.PARTNER, username="partner", partner=partner_org)


@pytest.fixture
def other_partner_user(db, other_partner_org):
    return make_user(Role.PARTNER, username="other_partner", partner=other_partner_org)


@pytest.fixture
def source(db):
    return make_source("Website")


@pytest.fixture
def api_client_for() -> Callable[[User], Client]:
    """A test client that authenticates with a fresh API key of `user`."""

    def build(user: User) -> Client:
        key = accounts_services.issue_api_key(user).raw
        return Client(headers={"X-API-Key": key})

    return build


@pytest.fixture
def logged_in_client(client) -> Callable[[User], Client]:
    """The Django test client, logged in as `user` (session auth, like the UI)."""

    def build(user: User) -> Client:
        client.force_login(user)
        return client

    return build


@pytest.fixture
def lead_events():
    """Every lead event delivered during the test, in order (delivery follows the commit)."""
    from leadloop.leads import events

    with events.recording() as seen:
        yield seen
