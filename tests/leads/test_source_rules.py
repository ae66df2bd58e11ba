"""A source's lead rules: the minimum contact a lead must carry, and whether a refused lead is
rejected or kept for a person. Set through the service, the API, the CLI and the sources page."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.urls import reverse

from leadloop.accounts.models import AuditEvent
from leadloop.errors import NotAllowed, ValidationFailed
from leadloop.intake.imports.bulk import import_file
from leadloop.leads import services
from leadloop.leads.models import ChannelKind, Lead, MinimumContact, OnInvalidLead
from tests.factories.leads import make_source

TRADE_FAIR = (
    "Voornaam,Achternaam,Bedrijf,Straat,Postcode,Plaats\n"
    "Noa,Jansen,Jansen Bouw,Dorpsstraat 1,1234 AB,Utrecht\n"
    "Sem,Smit,,Kerkweg 12,3511 AB,Utrecht\n"
    "Milan,de Vries,,Kerkweg 14,,Utrecht\n"
)


@pytest.mark.parametrize(
    ("kind", "policy"),
    [
        (ChannelKind.WEB_FORM, OnInvalidLead.REJECT),
        (ChannelKind.HTTP_POST, OnInvalidLead.REVIEW),
        (ChannelKind.EMAIL, OnInvalidLead.REVIEW),
        (ChannelKind.FTP, OnInvalidLead.REVIEW),
        (ChannelKind.IMPORT, OnInvalidLead.REVIEW),
    ],
)
def test_a_refused_lead_is_rejected_on_web_forms_and_reviewed_elsewhere_by_default(
    db, kind, policy
):
    source = make_source(kind=kind)

    assert (source.minimum_contact, source.on_invalid) == (
        MinimumContact.EMAIL_PHONE_OR_ADDRESS,
        "",
    )
    assert source.invalid_lead_policy == policy


def test_setting_the_rules_is_audited_with_before_and_after(admin):
    source = make_source("Fair")

    services.set_lead_rules(source, minimum_contact="email", on_invalid="reject", by=admin)

    source.refresh_from_db()
    entry = AuditEvent.objects.filter(target_id=str(source.pk)).latest("pk")
    assert (source.minimum_contact, source.invalid_lead_policy) == ("email", "reject")
    assert entry.data["change"] == "lead_rules"
    assert entry.data["before"] == {
        "minimum_contact": "email_phone_or_address",
        "on_invalid": "",
    }
    assert (entry.data["minimum_contact"], entry.data["on_invalid"]) == ("email", "reject")


def test_unknown_rules_are_field_errors(admin):
    source = make_source()

    with pytest.raises(ValidationFailed) as refused:
        services.set_lead_rules(source, minimum_contact="fax", on_invalid="ignore", by=admin)

    assert set(refused.value.errors) == {"minimum_contact", "on_invalid"}


def test_a_rep_may_not_set_the_rules(rep):
    source = make_source()

    with pytest.raises(NotAllowed):
        services.set_lead_rules(source, minimum_contact="email", on_invalid="", by=rep)


def test_a_trade_fair_list_with_postal_addresses_imports(db, marketing, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    source = make_source("Trade fair", kind=ChannelKind.IMPORT)
    path = tmp_path / "beurs.csv"
    path.write_text(TRADE_FAIR, encoding="utf-8")

    report = import_file(path, source=source, by=marketing)

    assert (report.created, report.rejected) == (2, 1)
    assert sorted(Lead.objects.values_list("last_name", "city")) == [
        ("Jansen", "Utrecht"),
        ("Smit", "Utrecht"),
    ]
    assert report.rejected_sample[0].row == 4  # no postal code: no complete address
    assert report.rejected_sample[0].reasons[0]["code"] == "no_contact"


def test_the_same_list_is_refused_where_the_source_asks_for_an_e_mail(
    db, marketing, settings, tmp_path
):
    settings.VAR_DIR = tmp_path / "var"
    source = make_source("Newsletter", kind=ChannelKind.IMPORT, minimum_contact="email")
    path = tmp_path / "beurs.csv"
    path.write_text(TRADE_FAIR, encoding="utf-8")

    report = import_file(path, source=source, by=marketing)

    assert (report.created, report.rejected) == (0, 3)
    assert report.rejected_sample[0].reasons[0]["message"] == "Give an e-mail address."


def test_api_sets_and_shows_the_rules(api_client_for, admin, rep):
    source = make_source("Vendor")
    url = f"/api/v1/sources/{source.pk}/lead-rules"

    saved = api_client_for(admin).put(
        url, {"minimum_contact": "phone", "on_invalid": "reject"}, content_type="application/json"
    )
    bad = api_client_for(admin).put(
        url, {"minimum_contact": "pigeon"}, content_type="application/json"
    )
    denied = api_client_for(rep).put(
        url, {"minimum_contact": "email"}, content_type="application/json"
    )
    shown = api_client_for(admin).get(f"/api/v1/sources/{source.pk}").json()

    assert saved.status_code == 200
    assert (shown["minimum_contact"], shown["on_invalid"], shown["invalid_lead_policy"]) == (
        "phone",
        "reject",
        "reject",
    )
    assert bad.status_code == 422
    assert bad["Content-Type"].startswith("application/problem+json")
    assert "minimum_contact" in json.dumps(bad.json())
    assert denied.status_code in (403, 404)


def test_cli_sets_the_rules_and_default_restores_the_channels_policy(db, capsys):
    source = make_source("Drop folder", kind=ChannelKind.FTP)

    call_command("sources", "rules", source.name, "--minimum-contact", "email_or_phone",
                 "--on-invalid", "reject")  # fmt: skip
    first = capsys.readouterr().out
    call_command("sources", "rules", source.name, "--on-invalid", "default", "--json")
    second = json.loads(capsys.readouterr().out)

    source.refresh_from_db()
    assert "minimum contact email_or_phone, a refused lead: reject." in first
    assert (second["minimum_contact"], second["on_invalid"]) == ("email_or_phone", "review")
    assert source.on_invalid == ""


def test_the_rules_page_saves_and_shows_errors(logged_in_client, marketing):
    source = make_source("Landing page", kind=ChannelKind.WEB_FORM)
    client = logged_in_client(marketing)
    url = reverse("leads:source-rules", args=[source.pk])

    page = client.get(url)
    saved = client.post(url, {"minimum_contact": "email", "on_invalid": "review"})
    bad = client.post(url, {"minimum_contact": "fax", "on_invalid": ""})
    listed = client.get(reverse("leads:source-list"))

    source.refresh_from_db()
    assert page.status_code == 200
    assert "Refuse it (the sender hears why)" in page.text
    assert saved.status_code == 302
    assert (source.minimum_contact, source.on_invalid) == ("email", "review")
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text
    assert url in listed.text


def test_a_rep_gets_no_rules_page(logged_in_client, rep):
    source = make_source()

    answer = logged_in_client(rep).get(reverse("leads:source-rules", args=[source.pk]))

    assert answer.status_code in (403, 404)
