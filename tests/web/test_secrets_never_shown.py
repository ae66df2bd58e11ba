"""No stored secret (channel password, provider API key) is ever shown: not in any API answer or
page, for any role, not in the CLI, not in exports or logs, and not in clear in the database.

The walk covers every GET in the OpenAPI schema and every URL pattern of the UI, with real ids
for their parameters; a new parameter name fails the test until it is given ids here, so a new
page cannot slip past.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
import json
import logging
import re
import socket
import zipfile
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import Role
from leadloop.accounts.services import create_api_key
from leadloop.api import api
from leadloop.assessment import enrichment
from leadloop.assessment.dedup.services import merge_pair
from leadloop.assessment.models import DuplicatePair
from leadloop.assessment.scoring import services as config
from leadloop.distribution import services as distribution
from leadloop.intake import services as intake
from leadloop.intake.channels.settings import check_connection, set_channel_settings
from leadloop.intake.imports import services as import_batches
from leadloop.intake.web_forms import services as web_forms
from leadloop.leads.models import ChannelKind, Lead
from leadloop.leads.services.saved_views import save_view
from leadloop.leads.services.sources import get_or_create_lost_reason
from leadloop.notifications import services as notifications
from leadloop.nurture.mail import services as marketing_mail
from leadloop.nurture.surveys import services as surveys
from leadloop.nurture.workflows import services as workflows
from leadloop.sales.services import feeds, quotes, steps
from leadloop.sales.services import templates as email_templates
from leadloop.webhooks.services import outbox
from leadloop.webhooks.services import subscriptions as webhooks
from tests.factories.leads import make_campaign, make_organization, make_source

# Distinctive, and free of characters HTML would escape, so a plain search finds any copy.
FTP_PASSWORD = "ftp-Pw-7QzkX93wq"
SFTP_PASSWORD = "sftp-Pw-R2d2C3po"
IMAP_PASSWORD = "imap-Pw-Gh8Lm41zt"
PROVIDER_KEY = "enrich-Key-Vb6Tn0Yx"
SECRETS = (FTP_PASSWORD, SFTP_PASSWORD, IMAP_PASSWORD, PROVIDER_KEY)
FEED_TOKEN = "calendar feed token"  # a label: the token itself is made in `world`

# URL parameters without a row to point at, and why their pages cannot show a channel secret.
NO_ROWS = {
    "key": "the public intake endpoint takes a source key, answers POST only",
    "model_id": "a predictive model needs 200 closed leads to train; its page shows its report",
    "uidb64": "a set-password link is made for one user and shows only a password form",
    "token": (
        "a set-password link is made for one user and shows only a password form; a survey "
        "link for one lead shows only the survey's questions; a marketing mail's signed link "
        "shows only an unsubscribe button, a 1x1 GIF or a redirect"
    ),
}
SKIP_PREFIXES = ("api/v1/", "in/", "i18n/")


BUYER_SFTP_PASSWORD = "buyer-sftp-Zq81xR"


def _forms_of(secret: str) -> list[bytes]:
    raw = secret.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.urlsafe_b64encode(raw),
        base64.b64encode(raw).rstrip(b"="),
        base64.b64encode(f"user:{secret}".encode()),  # an HTTP basic-auth header
    ]


NEEDLES = [(secret, form) for secret in SECRETS for form in _forms_of(secret)]


def _leaks(body: bytes, needles: list[tuple[str, bytes]] = NEEDLES) -> list[str]:
    """The secrets found in a body; the members of a zip (an XLSX export) are searched too."""
    bodies = [body]
    if body.startswith(b"PK"):
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            bodies += [archive.read(name) for name in archive.namelist()]
    return sorted({secret for secret, form in needles for b in bodies if form in b})


def _body(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def world(db, settings, tmp_path, admin, marketing, manager, rep, partner_user, agent):
    """Sources with every kind of secret, and one real row behind every URL parameter."""
    settings.VAR_DIR = tmp_path / "var"
    ftp = make_source("FTP drop", kind=ChannelKind.FTP)
    set_channel_settings(
        ftp,
        settings={
            "ftp": {
                "host": "127.0.0.1",
                "port": _closed_port(),
                "username": "provider",
                "password": FTP_PASSWORD,
            }
        },
        by=admin,
    )
    sftp = make_source("SFTP drop", kind=ChannelKind.FTP)
    set_channel_settings(
        sftp,
        settings={
            "ftp": {
                "host": "sftp.example.net",
                "port": 22,
                "username": "provider",
                "password": SFTP_PASSWORD,
                "sftp": True,
            }
        },
        by=marketing,
    )
    mail = make_source("Mailbox", kind=ChannelKind.EMAIL)
    set_channel_settings(
        mail,
        settings={
            "email_address": "leads-acme",
            "imap": {"host": "imap.example.net", "username": "leads", "password": IMAP_PASSWORD},
        },
        by=admin,
    )
    provider = enrichment.create_provider(
        values={
            "name": "Company data",
            "url": "https://enrich.example.net/company",
            "headers": {"Authorization": f"Bearer {PROVIDER_KEY}", "X-Api-Key": PROVIDER_KEY},
            "request_fields": {"domain": "email_domain"},
            "response_fields": {"company.name": "company_name"},
        },
        by=marketing,
    )
    config.set_source_policy(
        ftp, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="review"
    )
    leads = []
    for city in ("Utrecht", "Ede"):
        fields = {"first_name": "Ann", "last_name": "Smit", "email": "ann@smit.example"}
        submission = intake.receive(
            source=ftp,
            channel="http",
            body=json.dumps({**fields, "city": city}).encode(),
            content_type="application/json",
        )
        leads.append(Lead.objects.get(pk=intake.process_submission(submission.pk).lead_id))
    pair = DuplicatePair.objects.get()
    merge = merge_pair(pair, survivor_id=pair.lead_id, field_choices={}, by=admin)
    web = make_source("Website form", kind=ChannelKind.WEB_FORM)
    form = web_forms.create_form(source=web, by=admin, title="Offerte", slug="offerte")
    survey = surveys.create_survey(by=admin, name="Fit", title_en="Fit?")
    question = surveys.add_question(survey, by=admin, kind="text", text_en="Why?")
    workflow = workflows.create_workflow(
        by=admin, name="Nurture", definition={"steps": [{"id": "done", "type": "end"}]}
    )
    batch = import_batches.store_upload(
        io.BytesIO(b"email;first_name\nbob@example.com;Bob\n"),
        filename="leden.csv",
        source=ftp,
        by=admin,
    )
    rules = [
        config.create_grading_rule(by=SYSTEM, field="industry", operator="is_set", points=5).pk,
        config.create_engagement_rule(by=SYSTEM, event="page_visit", points=1).pk,
    ]
    ids = {
        "source_id": [ftp.pk, sftp.pk, mail.pk, web.pk],
        "lead_id": [lead.pk for lead in leads],
        "org_id": [make_organization("Smit BV").pk],
        "campaign_id": [make_campaign(ftp, "Autumn").pk],
        "submission_id": list(ftp.submissions.values_list("pk", flat=True)),
        "batch_id": [batch.pk],
        "form_id": [form.pk],
        "field_id": [form.fields.first().pk],
        "slug": [form.slug],
        "survey_id": [survey.pk],
        "question_id": [question.pk],
        "workflow_id": [workflow.pk],
        "step_id": ["done"],
        "enrollment_id": [1],
        "fmt": ["csv", "xlsx"],
        "action": ["call", "step", "move", "snooze"],
        "pair_id": [pair.pk],
        "merge_id": [merge.pk],
        "provider_id": [provider.pk],
        "rule_id": rules,
        "entry_id": [config.create_block_entry(by=SYSTEM, kind="ip", value="192.0.2.1").pk],
        "view_id": [save_view(user=admin, name="Mine", query="status=new").pk],
        "key_id": [create_api_key(rep, name="script", by=rep).key.pk],
        "user_id": [rep.pk, partner_user.pk],
        "team_id": [rep.team_id],
        "partner_id": [partner_user.partner_id],
        "reason_id": [get_or_create_lost_reason("Price").pk],
        "index": [0],
        "version": [_routing_version(rep)],
        "notification_id": [
            notifications.notify([rep], kind="test", title="Hello", url="/leads/")[0].pk
        ],
        "offer_id": [_partner_offer(rep, partner_user)],
        "task_id": [
            steps.add_task(
                leads[0], by=admin, kind="call", due_at=dt.datetime.now(dt.UTC) + dt.timedelta(1)
            ).pk
        ],
        "quote_id": [quotes.add_quote(leads[0], by=admin, amount="100.00").pk],
        "template_id": [
            email_templates.create_template(
                by=admin, name="Hello", language="en", subject="Hi {first_name}", body="Hello."
            ).pk
        ],
        "report_id": [
            marketing_mail.record_bounce(b"From: mailer-daemon@example.net\r\n\r\nGone.\r\n").pk
        ],
        "absence_id": [
            distribution.add_absence(
                rep, by=SYSTEM, starts_on=dt.date(2026, 12, 24), ends_on=dt.date(2026, 12, 26)
            ).pk
        ],
    }
    ids.update(_call_desk(admin, agent, Lead.objects.filter(merged_into__isnull=True).first()))
    buyer_user, buyer_ids, buyer_secret = _lead_market(leads[0])
    ids.update(buyer_ids)
    users = {
        Role.AGENT: agent,
        Role.ADMIN: admin,
        Role.MARKETING: marketing,
        Role.SALES_MANAGER: manager,
        Role.SALES_REP: rep,
        Role.PARTNER: partner_user,
        Role.BUYER: buyer_user,
    }
    assert set(users) == set(Role.values)  # a new role must be walked too
    # A webhook's signing secret is shown once, on the answer that made it, and never again.
    hook, hook_secret = webhooks.create_subscription(
        by=admin, url="https://hooks.example.net/in", events=["lead.created"]
    )
    event = outbox.Outgoing("lead.created", {"lead_id": leads[0].pk}, dt.datetime.now(dt.UTC))
    ids["subscription_id"] = [hook.pk]
    ids["delivery_id"] = outbox.emit([event], only=[hook.pk])
    needles = NEEDLES + [(hook_secret, form) for form in _forms_of(hook_secret)]
    needles += [(hook_secret, hook_secret.removeprefix("whsec_").encode())]
    # A buyer's signing secret is shown once, when it is made anew.
    needles += [(buyer_secret, form) for form in _forms_of(buyer_secret)]
    needles += [(buyer_secret, buyer_secret.removeprefix("whsec_").encode())]
    needles += [(BUYER_SFTP_PASSWORD, form) for form in _forms_of(BUYER_SFTP_PASSWORD)]
    # A calendar feed's address is shown once, when it is made; its feed answers without a login.
    due = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    ids["task_id"] = [steps.add_task(leads[0], by=SYSTEM, kind="call", due_at=due, owner=rep).pk]
    feed_token = feeds.issue_feed(rep)
    ids["feed_token"] = [feed_token]
    needles += [(FEED_TOKEN, feed_token.encode())]
    return {"ids": ids, "users": users, "ftp": ftp, "needles": needles}


def _lead_market(lead: Any) -> tuple[Any, dict[str, list[object]], str]:
    """A buyer with a portal user, a signing secret renewed once, a sale, an auction, a return."""
    from django.utils import timezone

    from leadloop.distribution.selling.models import Auction, Sale
    from leadloop.distribution.selling.services import buyers, returns
    from tests.factories.accounts import make_user

    buyer = buyers.save_buyer(
        {"name": "Buyer", "price": "10", "url": "https://buyer.example.net/in"}, by=SYSTEM
    )
    secret = buyers.rotate_secret(buyer.pk, by=SYSTEM)
    from leadloop.distribution.selling.services import batches

    batches.configure_sftp(
        buyer.pk,
        {"host": "sftp.buyer.example.net", "username": "buyer"},
        password=BUYER_SFTP_PASSWORD,
        by=SYSTEM,
    )
    user = make_user(Role.BUYER, username="buyer.user")
    buyers.add_login(buyer.pk, user, by=SYSTEM)
    now = timezone.now()
    auction = Auction.objects.create(lead=lead, started_at=now, state="sold", finished_at=now)
    sale = Sale.objects.create(
        lead=lead, buyer=buyer, auction=auction, state="sold", price=10, created_at=now, sold_at=now
    )
    asked = returns.request_return(sale.pk, reason="wrong", by=user)
    ids: dict[str, list[object]] = {
        "buyer_id": [buyer.pk],
        "sale_id": [sale.pk],
        "auction_id": [auction.pk],
        "return_id": [asked.pk],
    }
    return user, ids, secret


def _call_desk(admin: Any, agent: Any, lead: Any) -> dict[str, list[object]]:
    """A call list the agent works, with a lead on it, and a do-not-call number."""
    from leadloop.leads.services import update_lead
    from leadloop.nurture.calls import services as calls

    update_lead(lead, {"phone": "+31612345678"}, by=SYSTEM)
    call_list = calls.create_call_list(
        by=admin, name="Calls", script_en="Hi {first_name}", members=[agent.pk]
    )
    entry = calls.add_to_call_list(lead, call_list, by=admin)
    dnc = calls.add_dnc("+31612340001", by=admin)
    return {"list_id": [call_list.pk], "call_entry_id": [entry.pk], "dnc_id": [dnc.pk]}


def _routing_version(rep: Any) -> int:
    """A published rule set with a rule, for the routing pages that take its index or version."""
    return distribution.publish(
        by=SYSTEM,
        document={
            "rules": [
                {
                    "name": "NL",
                    "conditions": "country = NL",
                    "action": {"kind": "team", "team_id": rep.team_id, "mode": "push"},
                }
            ],
            "default": {"kind": "team", "team_id": rep.team_id, "mode": "pool"},
        },
    ).version


def _partner_offer(rep: Any, partner_user: Any) -> int:
    """A lead routed to the partner, for the partner's offer pages."""
    from leadloop.distribution.models import PartnerOffer
    from leadloop.leads.models import LeadStatus
    from leadloop.leads.services import transition
    from tests.factories.leads import make_lead

    distribution.publish(
        by=SYSTEM,
        document={
            "rules": [],
            "default": {"kind": "partner", "partner_id": partner_user.partner_id},
        },
    )
    lead = make_lead(make_source("Partner feed"))
    if lead.status != LeadStatus.SALES_READY:
        transition(lead, to=LeadStatus.SALES_READY, by=SYSTEM)
    distribution.route_lead(lead.pk)
    return PartnerOffer.objects.get(lead=lead).pk


def _expand(route: str, ids: dict[str, list[object]], pattern: str) -> list[str]:
    """Every URL the route gives with the ids of its parameters (none when a parameter has no
    rows, by NO_ROWS); an unknown parameter fails the test."""
    names = re.findall(pattern, route)
    for name in names:
        assert name in ids or name in NO_ROWS, f"give ids for {name!r} (in {route})"
    if any(name in NO_ROWS for name in names):
        return []
    urls = []
    for values in itertools.product(*(ids[name] for name in names)):
        url = route
        for name, value in zip(names, values, strict=True):
            url = re.sub(pattern.replace(r"(\w+)", re.escape(name)), str(value), url, count=1)
        urls.append(url)
    return urls


def _api_urls(ids: dict[str, list[object]]) -> list[str]:
    paths = api.get_openapi_schema()["paths"]
    routes = [path for path, operations in paths.items() if "get" in operations]
    return [url for route in routes for url in _expand(route, ids, r"\{(\w+)\}")]


def _page_routes(patterns, prefix: str = ""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from _page_routes(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern)


def _page_urls(ids: dict[str, list[object]]) -> list[str]:
    routes = sorted(set(_page_routes(get_resolver().url_patterns)))
    urls = []
    for route in routes:
        if route.startswith(SKIP_PREFIXES):
            continue
        plain = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
        urls += ["/" + url for url in _expand(plain, ids, r"\{(\w+)\}")]
    return urls


def _walk(
    client: Client, urls: list[str], needles: list[tuple[str, bytes]] = NEEDLES
) -> tuple[dict[str, object], int]:
    """The URLs whose answer shows a secret (with status and secrets), and how many said 200."""
    found: dict[str, object] = {}
    ok = 0
    for url in urls:
        response = client.get(url)
        ok += response.status_code == 200
        leaks = _leaks(_body(response), needles)
        if leaks:
            found[url] = (response.status_code, leaks)
    return found, ok


@pytest.mark.parametrize("role", [*Role.values, "anonymous"])
def test_no_page_or_api_answer_shows_a_stored_secret(world, role, api_client_for):
    user = world["users"].get(role)
    api_urls = _api_urls(world["ids"])
    page_urls = _page_urls(world["ids"])
    api_client = api_client_for(user) if user else Client()
    page_client = Client()
    if user:
        page_client.force_login(user)

    api_leaks, api_ok = _walk(api_client, api_urls, world["needles"])
    page_leaks, page_ok = _walk(page_client, page_urls, world["needles"])

    assert {**api_leaks, **page_leaks} == {}
    assert "/api/v1/sources" in api_urls
    assert f"/sources/{world['ftp'].pk}/channel/" in page_urls
    # The walk really reads pages: those who configure get an answer from nearly every GET
    # (measured 47 of 49 API URLs and 58 of 119 page URLs; the rest are POST-only views).
    if role in (Role.ADMIN, Role.MARKETING):
        assert (api_ok >= 45, page_ok >= 55) == (True, True)


def test_the_walk_reaches_the_settings_that_hold_the_secrets(world, admin):
    client = Client()
    client.force_login(admin)
    ftp = world["ftp"]

    channel = client.get(f"/sources/{ftp.pk}/channel/")
    api = client.get(f"/api/v1/intake/sources/{ftp.pk}/channel")
    provider = client.get(f"/assessment/enrichment/{world['ids']['provider_id'][0]}/")

    assert (channel.status_code, api.status_code, provider.status_code) == (200, 200, 200)
    assert "•••••• (set, changed " in channel.text
    assert api.json()["ftp"]["has_password"] is True
    assert "Authorization: ••••••" in provider.text


def test_the_cli_never_prints_a_stored_secret(world):
    outputs = []
    for args in (
        ("sources", "list"),
        ("sources", "list", "--json"),
        ("secrets", "list"),
        ("secrets", "list", "--json"),
    ):
        out = io.StringIO()
        call_command(*args, stdout=out)
        outputs.append(out.getvalue())

    assert [_leaks(text.encode()) for text in outputs] == [[], [], [], []]
    assert '"section": "imap"' in outputs[3]


def test_a_failed_login_logs_no_secret(world, admin, caplog):
    caplog.set_level(logging.DEBUG)

    check = check_connection(world["ftp"], by=admin)

    assert check.ok is False
    assert _leaks(caplog.text.encode()) == []
    assert _leaks(check.message.encode()) == []


def test_no_table_holds_a_secret_in_clear(world):
    rows = []
    for model in apps.get_models():
        rows += [repr(row) for row in model.objects.values_list()]

    assert _leaks("\n".join(rows).encode()) == []
    assert len(rows) > 20
