"""No N+1: every list page and list endpoint makes as many queries for 20 rows as for 2.

The lists are discovered, so a new one is covered without editing this file: UI pages are the
URL patterns without parameters named `*-list` (plus the list pages named otherwise, below), API
lists are the GET operations of the OpenAPI schema without path parameters whose answer is an
array or an object holding one. Each is asked for with 2 rows of everything, then with 20.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role, User
from leadloop.api import api
from leadloop.assessment import enrichment
from leadloop.assessment.dedup.matching import find_duplicate_pairs
from leadloop.intake import services as intake
from leadloop.intake.imports.bulk import import_file
from leadloop.intake.web_forms import services as web_forms
from leadloop.leads.models import ChannelKind, Source
from tests.factories.accounts import make_team, make_user
from tests.factories.assessment import (
    make_block_entry,
    make_engagement_rule,
    make_grading_rule,
    set_source_policy,
)
from tests.factories.leads import make_campaign, make_lead, make_organization, make_source

# List pages whose URL name does not end in -list.
OTHER_LIST_PAGES = {"config", "requests", "api-keys"}
# Found by the discovery but not lists, with the reason.
NOT_LISTS = {
    "/api/v1/assessment/models/active": "the one active model (its features are the array)",
}
# The World below does not fill the predictive models, privacy requests and retention rules
# (they need a trained model or a person's request): those lists are compared with the rows
# they have.


def _ui_lists() -> list[tuple[str, str]]:
    found: dict[str, str] = {}

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if pattern.pattern.converters:
                continue
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif pattern.name and (
                pattern.name.endswith("-list") or pattern.name in OTHER_LIST_PAGES
            ):
                found.setdefault(pattern.name, "/" + prefix + str(pattern.pattern))

    walk(get_resolver().url_patterns, "")
    return sorted(found.items())


def _is_list(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    if "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array":
        return True
    return any(prop.get("type") == "array" for prop in schema.get("properties", {}).values())


def _api_lists() -> list[str]:
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    found = []
    for path, operations in schema["paths"].items():
        get = operations.get("get")
        if get is None or "{" in path or path in NOT_LISTS:
            continue
        answer = get["responses"].get(200) or get["responses"].get("200") or {}
        body = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if _is_list(body, components):
            found.append(path)
    return sorted(found)


UI_LISTS = _ui_lists()
API_LISTS = _api_lists()
_seq = itertools.count(1)


def test_the_lists_are_found():
    # The discovery must see the main lists; if it finds none, the test below guards nothing.
    assert {"lead-list", "source-list", "submission-list", "duplicate-list"} <= dict(
        UI_LISTS
    ).keys()
    assert {"/api/v1/leads", "/api/v1/audit", "/api/v1/assessment/duplicates"} <= set(API_LISTS)


def _csv(path: Path, rows: list[list[str]]) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    return path


class World:
    """Rows of every listed kind, added through the services, `add(n)` at a time."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.team = make_team("North")
        self.web = make_source("Web", kind=ChannelKind.HTTP_POST)
        self.held = make_source("Held")
        set_source_policy(self.held, fraud_review_at=0, fraud_reject_at=101)
        self.forms = make_source("Forms", kind=ChannelKind.WEB_FORM)
        self.imports = make_source("Imports", kind=ChannelKind.IMPORT)

    def _submit(self, source: Source, fields: dict[str, str]) -> None:
        submission = intake.receive(
            source=source,
            channel="http",
            body=json.dumps(fields).encode(),
            content_type="application/json",
            meta={},
        )
        intake.process_submission(submission.pk)

    def add(self, n: int) -> None:
        for _ in range(n):
            i = next(_seq)
            rep = make_user(Role.SALES_REP, username=f"rep{i}", team=self.team)
            accounts_services.issue_api_key(rep, name=f"key {i}")
            source = make_source(f"Source {i}")
            campaign = make_campaign(source)
            organization = make_organization(f"Org {i}")
            make_lead(
                source,
                assigned_to=rep,
                team=self.team,
                organization_id=organization.pk,
                campaign_id=campaign.pk,
                email=f"lead{i}@firma{i}.nl",
            )
            # Two alike leads: a duplicate pair for the scan below.
            for _twin in range(2):
                make_lead(self.web, first_name="Ann", last_name=f"Smit{i}", phone=f"06123{i:05d}")
            self._submit(self.web, {"first_name": "Eva", "email": f"eva{i}@bouw{i}.nl"})
            self._submit(self.held, {"first_name": "Held", "email": f"held{i}@bouw{i}.nl"})
            make_grading_rule(field="job_title", operator="contains", value=f"title{i}", points=i)
            make_engagement_rule(event="page_visit", match=f"/page{i}", points=i)
            make_block_entry(kind="email_domain", value=f"spam{i}.example")
            web_forms.create_form(source=self.forms, by=SYSTEM, title=f"Form {i}", slug=f"f{i}")
            enrichment.create_provider(
                values={
                    "name": f"Provider {i}",
                    "url": f"https://enrich{i}.example.net/company",
                    "headers": {},
                    "request_fields": {"domain": "email_domain"},
                    "response_fields": {"company.name": "company_name"},
                },
                by=SYSTEM,
            )
            path = _csv(
                self.tmp_path / f"import{i}.csv",
                [["first name", "email"], [f"Imp{i}", f"imp{i}@firma{i}.nl"]],
            )
            import_file(path, source=self.imports, filename=f"import{i}.csv")
        find_duplicate_pairs()


@pytest.fixture
def world(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    return World(tmp_path)


def _fresh_caches() -> None:
    """Drop the per-process snapshots that reload after a few seconds (defaults, rules, models).

    The warm-up below then starts each one afresh, so none can expire between it and the
    counted request: under load a snapshot taken pages earlier did, and the count grew by one.
    """
    from leadloop.accounts import defaults
    from leadloop.assessment.dedup.matching import model as match_model
    from leadloop.assessment.predictive import services as predictive
    from leadloop.assessment.scoring import rules

    for cache in (defaults, rules, predictive, match_model):
        cache.invalidate()


def _count(client: Any, url: str) -> tuple[int, list[str]]:
    _fresh_caches()
    client.get(url)  # warm the per-process caches (rules, settings) the changes dropped
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(queries), [q["sql"] for q in queries.captured_queries]


def _client_for(kind: str, client: Any) -> Any:
    admin: User = make_user(Role.ADMIN, username="admin")
    if kind == "pages":
        client.force_login(admin)
    else:
        client.defaults["HTTP_X_API_KEY"] = accounts_services.issue_api_key(admin).raw
    return client


# One world for all lists of a kind: filling it 20 times over is the slow part.
@pytest.mark.parametrize(
    ("kind", "urls"),
    [("pages", dict(UI_LISTS)), ("endpoints", {path: path for path in API_LISTS})],
    ids=["pages", "endpoints"],
)
def test_every_list_makes_as_many_queries_for_20_rows_as_for_2(kind, urls, world, client):
    client = _client_for(kind, client)

    world.add(2)
    few = {name: _count(client, url) for name, url in urls.items()}
    world.add(18)
    many = {name: _count(client, url) for name, url in urls.items()}

    growing = {
        name: (few[name][0], many[name][0]) for name in urls if many[name][0] != few[name][0]
    }
    details = [
        f"{urls[name]}: {counts[0]} queries for 2 rows, {counts[1]} for 20; with 20:\n  "
        + "\n  ".join(many[name][1])
        for name, counts in growing.items()
    ]
    assert growing == {}, "\n\n".join(details)
