"""Each place that reads, exports, changes or downloads writes exactly one audit event, through
the real views, API, services and CLI; and no event holds the lead's personal data."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.accounts.models import AuditEvent, Role
from leadloop.assessment import enrichment as enrichment_services
from leadloop.assessment.scoring import services as config
from leadloop.intake import services as intake_services
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import FieldInput
from leadloop.leads import services as leads_services
from leadloop.leads.models import ChannelKind
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead, make_source, make_source_with_key

EMAIL = "ann.private@example.com"


def _mark() -> int:
    return AuditEvent.objects.aggregate(last=Max("id"))["last"] or 0


def _since(mark: int) -> list[tuple[str, str, str, str]]:
    """(actor, action, target type, target id) of the events written after `mark`."""
    return list(
        AuditEvent.objects.filter(pk__gt=mark)
        .order_by("id")
        .values_list("actor_label", "action", "target_type", "target_id")
    )


def _all_rows_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False).lower()


@pytest.fixture
def lead(source, rep):
    return make_lead(
        source,
        assigned_to=rep,
        email=EMAIL,
        first_name="Ann",
        last_name="Private",
        phone="0612345678",
    )


# --- Reads ---------------------------------------------------------------------------------------


def test_opening_a_lead_page_writes_one_view_event_without_personal_data(
    logged_in_client, lead, rep
):
    mark = _mark()

    response = logged_in_client(rep).get(reverse("leads:lead-detail", args=[lead.pk]))

    assert response.status_code == 200
    assert _since(mark) == [("rep", "lead_viewed", "lead", str(lead.pk))]
    event = AuditEvent.objects.get(pk__gt=mark)
    assert (event.actor_id, event.ip, event.method, event.path, event.target_label) == (
        rep.pk,
        "127.0.0.1",
        "GET",
        f"/leads/{lead.pk}/",
        f"#{lead.pk}",
    )
    text = _all_rows_text()
    assert EMAIL not in text
    assert "private" not in text
    assert "612345678" not in text


def test_a_lead_page_view_adds_one_insert(logged_in_client, lead, rep, settings):
    client = logged_in_client(rep)
    url = reverse("leads:lead-detail", args=[lead.pk])
    client.get(url)  # warm the session and caches
    settings.LEADLOOP_AUDIT_VIEWS = False
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as off:
        client.get(url)
    settings.LEADLOOP_AUDIT_VIEWS = True

    with CaptureQueriesContext(connection) as on:
        client.get(url)

    extra = [q["sql"] for q in on.captured_queries[len(off.captured_queries) :]]
    assert len(on.captured_queries) == len(off.captured_queries) + 1
    inserts = [q["sql"] for q in on.captured_queries if q["sql"].startswith("INSERT")]
    assert len(inserts) == 1
    assert "accounts_auditevent" in inserts[0]
    assert len(extra) == 1


def test_a_lead_someone_may_not_see_writes_no_view_event(logged_in_client, lead, other_rep):
    mark = _mark()

    response = logged_in_client(other_rep).get(reverse("leads:lead-detail", args=[lead.pk]))

    assert response.status_code == 404
    assert _since(mark) == []


def test_reading_a_lead_through_the_api_writes_one_view_event(api_client_for, lead, rep):
    client = api_client_for(rep)
    mark = _mark()

    response = client.get(f"/api/v1/leads/{lead.pk}")

    assert response.status_code == 200
    assert _since(mark) == [("rep", "lead_viewed", "lead", str(lead.pk))]
    assert AuditEvent.objects.get(pk__gt=mark).path == f"/api/v1/leads/{lead.pk}"


def test_with_view_logging_off_a_read_writes_nothing(api_client_for, lead, rep, settings):
    settings.LEADLOOP_AUDIT_VIEWS = False
    client = api_client_for(rep)
    mark = _mark()

    client.get(f"/api/v1/leads/{lead.pk}")

    assert _since(mark) == []


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_writes_one_event_with_count_and_filters_but_not_the_search(
    logged_in_client, lead, source, rep, admin, fmt
):
    make_lead(source, assigned_to=rep)
    mark = _mark()

    response = logged_in_client(admin).get(
        reverse("leads:lead-export", args=[fmt]), {"q": EMAIL, "source": source.pk}
    )
    b"".join(response.streaming_content)

    assert _since(mark) == [("admin", "lead_exported", "lead", "")]
    event = AuditEvent.objects.get(pk__gt=mark)
    assert event.data == {
        "count": 1,
        "format": fmt,
        "filters": {"q": "(search text)", "source": source.pk},
    }
    assert EMAIL not in _all_rows_text()


def test_downloading_the_original_writes_one_event_on_the_lead(logged_in_client, admin):
    _source, key = make_source_with_key("Provider")
    Client().post(f"/in/{key}", json.dumps({"email": EMAIL}), content_type="application/json")
    lead_id = _lead_id_for(EMAIL)
    mark = _mark()

    page = logged_in_client(admin).get(reverse("intake:lead-original", args=[lead_id]))
    download = logged_in_client(admin).get(reverse("intake:lead-original-download", args=[lead_id]))

    assert (page.status_code, download.status_code) == (200, 200)
    assert _since(mark) == [
        ("admin", "original_viewed", "lead", str(lead_id)),
        ("admin", "original_downloaded", "lead", str(lead_id)),
    ]
    assert EMAIL not in _all_rows_text()


def test_downloading_an_original_through_the_api_writes_one_event(api_client_for, admin):
    _source, key = make_source_with_key("Provider")
    Client().post(f"/in/{key}", json.dumps({"email": EMAIL}), content_type="application/json")
    lead_id = _lead_id_for(EMAIL)
    client = api_client_for(admin)
    mark = _mark()

    response = client.get(f"/api/v1/intake/leads/{lead_id}/original")

    assert response.status_code == 200
    assert _since(mark) == [("admin", "original_downloaded", "lead", str(lead_id))]


def _lead_id_for(email: str) -> int:
    from leadloop.leads.models import Lead

    return Lead.objects.get(email=email).pk


# --- Lead changes --------------------------------------------------------------------------------


def test_a_field_change_through_the_api_names_the_field_not_the_value(api_client_for, lead, rep):
    client = api_client_for(rep)
    mark = _mark()

    response = client.patch(
        f"/api/v1/leads/{lead.pk}",
        json.dumps({"email": "new.secret@example.com"}),
        content_type="application/json",
    )

    assert response.status_code == 200
    assert _since(mark) == [("rep", "lead_changed", "lead", str(lead.pk))]
    assert AuditEvent.objects.get(pk__gt=mark).data == {"fields": ["email"]}
    assert "new.secret" not in _all_rows_text()


def test_an_edit_in_the_ui_writes_one_change_event(logged_in_client, lead, rep, source):
    mark = _mark()

    response = logged_in_client(rep).post(
        reverse("leads:lead-edit", args=[lead.pk]),
        {
            "source": source.pk,
            "first_name": "Anne",
            "last_name": "Private",
            "email": EMAIL,
            "phone": "0612345678",
            # What the assessment filled in at creation, posted back unchanged.
            "country": lead.country,
            "language": lead.language,
        },
    )

    assert response.status_code == 302
    events = [e for e in _since(mark) if e[1] == "lead_changed"]
    assert events == [("rep", "lead_changed", "lead", str(lead.pk))]
    assert AuditEvent.objects.get(pk__gt=mark, action="lead_changed").data == {
        "fields": ["first_name"]
    }


def test_a_status_move_writes_one_change_event(api_client_for, lead, rep):
    client = api_client_for(rep)
    mark = _mark()

    client.post(
        f"/api/v1/leads/{lead.pk}/transition",
        json.dumps({"to": "contacted"}),
        content_type="application/json",
    )

    assert _since(mark) == [("rep", "lead_changed", "lead", str(lead.pk))]
    assert AuditEvent.objects.get(pk__gt=mark).data == {"fields": ["status"], "to": "contacted"}


def test_a_bulk_status_change_writes_one_event_per_lead(logged_in_client, source, manager, team):
    leads = [make_lead(source, team=team) for _ in range(3)]
    mark = _mark()

    logged_in_client(manager).post(
        reverse("leads:lead-bulk"),
        {"action": "status", "ids": [lead.pk for lead in leads], "bulk-to": "disqualified"},
    )

    assert _since(mark) == [("manager", "lead_changed", "lead", str(lead.pk)) for lead in leads]


def test_leadloops_own_changes_stay_on_the_timeline_only(lead):
    mark = _mark()

    leads_services.transition(lead, to="contacted", by=SYSTEM)

    assert _since(mark) == []


# --- Configuration -------------------------------------------------------------------------------


def test_source_create_rotate_and_revoke_through_the_api_write_one_event_each(
    api_client_for, marketing
):
    client = api_client_for(marketing)
    mark = _mark()

    created = client.post(
        "/api/v1/sources",
        json.dumps({"name": "Partner feed", "kind": "http_post"}),
        content_type="application/json",
    ).json()
    source_id = created["source"]["id"]
    client.post(f"/api/v1/sources/{source_id}/rotate-key")
    client.post(f"/api/v1/sources/{source_id}/revoke-key")

    assert _since(mark) == [("marketing", "source_changed", "source", str(source_id))] * 3
    changes = list(
        AuditEvent.objects.filter(pk__gt=mark)
        .order_by("id")
        .values_list("data__change", "target_label")
    )
    assert changes == [
        ("created", "Partner feed"),
        ("key_rotated", "Partner feed"),
        ("key_revoked", "Partner feed"),
    ]
    assert created["key"] not in _all_rows_text()


def test_a_key_rotated_at_the_command_line_is_the_clis(db, capsys):
    source = make_source("Website")
    mark = _mark()

    call_command("sources", "rotate-key", "Website")

    assert _since(mark) == [("cli", "source_changed", "source", str(source.pk))]


def test_a_mapping_change_is_a_source_change(logged_in_client, admin):
    source = make_source("Website")
    mark = _mark()

    from leadloop.intake import services as intake_services

    intake_services.set_mapping(source, mapping={"fields": {"Mail": "email"}}, by=admin)

    assert _since(mark) == [("admin", "source_changed", "source", str(source.pk))]
    assert AuditEvent.objects.get(pk__gt=mark).data == {"change": "mapping", "sections": ["fields"]}


def test_scoring_settings_rules_and_policy_write_one_event_each(marketing, source):
    mark = _mark()

    config.update_scoring_settings(by=marketing, ready_min_bant=2, fraud_weights={"honeypot": 50})
    rule = config.create_grading_rule(
        by=marketing, field="country", operator="equals", value="NL", points=5
    )
    rule_id = rule.pk
    config.delete_grading_rule(rule, by=marketing)
    config.set_source_policy(
        source, by=marketing, fraud_review_at=40, fraud_reject_at=80, on_duplicate="merge"
    )

    assert _since(mark) == [
        ("marketing", "setting_changed", "settings", "scoring"),
        ("marketing", "rule_changed", "rule", str(rule_id)),
        ("marketing", "rule_changed", "rule", str(rule_id)),
        ("marketing", "source_changed", "source", str(source.pk)),
    ]
    first = AuditEvent.objects.filter(pk__gt=mark).order_by("id").first()
    assert first.data == {"fields": ["fraud_weights", "ready_min_bant"]}


def test_a_blocklist_entry_is_recorded_by_kind_not_by_value(admin):
    mark = _mark()

    entry = config.create_block_entry(by=admin, kind="email", value=EMAIL)

    assert _since(mark) == [("admin", "setting_changed", "block_entry", str(entry.pk))]
    assert AuditEvent.objects.get(pk__gt=mark).data == {"kind": "email", "change": "created"}
    assert EMAIL not in _all_rows_text()


def test_an_enrichment_provider_change_is_recorded(admin):
    mark = _mark()

    provider = enrichment_services.create_provider(
        values={
            "name": "Company data",
            "url": "https://api.example.com/company",
            "method": "GET",
            "request_fields": {"domain": "email_domain"},
            "response_fields": {"company.name": "company_name"},
        },
        by=admin,
    )

    assert _since(mark) == [("admin", "setting_changed", "provider", str(provider.pk))]


def test_the_form_builder_records_each_change(admin):
    source = make_source("Forms", kind=ChannelKind.WEB_FORM)
    form = web_forms.create_form(source=source, by=admin, title="Demo", slug="demo")
    mark = _mark()

    field = web_forms.add_field(
        form, by=admin, label="Team size", target="extra:team_size", input_type=FieldInput.TEXT
    )
    web_forms.remove_field(field, by=admin)

    form_events = [e for e in _since(mark) if e[1] == "form_changed"]
    assert form_events == [("admin", "form_changed", "form", str(form.pk))] * 2


# --- Users and logins ----------------------------------------------------------------------------


def test_createuser_at_the_command_line_is_recorded_as_the_clis(db, capsys):
    mark = _mark()

    call_command("createuser", "maria", "--role", "sales_rep", "--json")

    user_id = json.loads(capsys.readouterr().out)["id"]
    assert _since(mark) == [("cli", "user_created", "user", str(user_id))]
    assert AuditEvent.objects.get(pk__gt=mark).data == {
        "role": "sales_rep",
        "team": None,
        "partner": None,
    }


def test_a_login_and_a_failed_login_are_recorded(client, db):
    make_user(Role.SALES_REP, username="sam", password="correct-horse-9")
    mark = _mark()

    failed = client.post(reverse("web:login"), {"username": "sam", "password": "wrong"})
    done = client.post(reverse("web:login"), {"username": "sam", "password": "correct-horse-9"})

    assert (failed.status_code, done.status_code) == (200, 302)
    events = _since(mark)
    user_id = events[1][3]
    assert events == [
        ("anonymous", "login_failed", "user", user_id),
        ("sam", "login", "user", user_id),
    ]
    assert AuditEvent.objects.get(pk__gt=mark, action="login_failed").data == {"known_user": True}


def test_a_failed_login_with_an_unknown_name_keeps_no_name(client, db):
    mark = _mark()

    client.post(reverse("web:login"), {"username": "hunter2-typed-here", "password": "x"})

    assert _since(mark) == [("anonymous", "login_failed", "user", "")]
    assert "hunter2" not in _all_rows_text()


def test_intake_limits_are_a_source_change_and_a_feed_poll_is_not(admin):
    source = make_source("Limited")
    mark = _mark()

    leads_services.set_intake_limits(source, per_source=100, per_address=5, by=admin)
    intake_services.set_mapping(source, mapping={"feed": {"etag": '"v2"'}}, by=SYSTEM)

    assert _since(mark) == [("admin", "source_changed", "source", str(source.pk))]
