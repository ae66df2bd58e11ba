"""The e-mail channel's parser: raw messages (real ones from ../shared/data) → records."""

from __future__ import annotations

import mailbox
import re
from email.message import EmailMessage
from email.utils import format_datetime

import pytest

from leadloop.intake.channels.email.parser import (
    MAX_ATTACHMENT_RECORDS,
    MAX_MESSAGE_BYTES,
    EmailParseError,
    iter_mbox,
    parse_message,
)
from leadloop.intake.channels.html import MAX_TABLE_DEPTH
from leadloop.intake.mapping import map_record
from tests.conftest import shared_data_cases, shared_data_path

META = {
    "_from": "forms@example.org",
    "_from_name": "",
    "_reply_to": "",
    "_subject": "Nieuwe aanvraag",
    "_message_id": "<lead-1@example.org>",
    "_date": "2025-03-14T09:30:00+01:00",
}


def _message(text: str | None = None, *, html: str | None = None, **headers: str) -> EmailMessage:
    import datetime as dt

    message = EmailMessage()
    message["From"] = headers.pop("sender", "forms@example.org")
    message["To"] = "leads@leadloop.example"
    message["Subject"] = headers.pop("subject", "Nieuwe aanvraag")
    message["Message-ID"] = "<lead-1@example.org>"
    message["Date"] = format_datetime(
        dt.datetime(2025, 3, 14, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    )
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    return message


def _blns() -> list[str]:
    path = shared_data_path("hostile", "blns.txt")
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    return [line for line in lines if line and not line.startswith("#")]


def _blns_cases() -> list[str]:
    return shared_data_cases(_blns)


def test_cf7_notification_becomes_one_record_with_the_message_facts():
    with open(shared_data_path("emails", "cf7_default_notification_template.txt")) as handle:
        template = "".join(line for line in handle if not line.startswith("#"))
    values = {
        "your-name": "Noa de Vries",
        "your-email": "noa@example.nl",
        "your-subject": "Offerte dakkapel",
        "your-message": "Goedemiddag,\n\nGraag een offerte voor een dakkapel.\nMet groet, Noa",
    }
    body = re.sub(r"\[([\w-]+)\]", lambda m: values[m.group(1)], template)
    message = _message(
        body,
        sender=f"{values['your-name']} <wordpress@gebrak.example>",
        subject=values["your-subject"],
        reply_to=values["your-email"],
    )

    records = parse_message(message.as_bytes())

    assert records == [
        {
            "From": "Noa de Vries <noa@example.nl>",
            "Subject": "Offerte dakkapel",
            "Message Body": "Goedemiddag,\n\nGraag een offerte voor een dakkapel.\nMet groet, Noa",
            "_from": "wordpress@gebrak.example",
            "_from_name": "Noa de Vries",
            "_reply_to": "noa@example.nl",
            "_subject": "Offerte dakkapel",
            "_message_id": "<lead-1@example.org>",
            "_date": "2025-03-14T09:30:00+01:00",
            # The visitor's address is only in the body's "From: Name <address>" line.
            "email": "noa@example.nl",
            "name": "Noa de Vries",
        }
    ]
    lead = map_record(records[0], None).lead_input()
    assert (lead["email"], lead["first_name"], lead["last_name"]) == (
        "noa@example.nl",
        "Noa",
        "de Vries",
    )
    assert lead["extra"]["comments"].startswith("Goedemiddag,\n\nGraag een offerte")


def test_dutch_label_mail_keeps_labels_and_joins_continued_lines():
    body = (
        "U heeft een nieuwe aanvraag ontvangen.\n"
        "\n"
        "Voornaam: Noa\n"
        "Achternaam: de Vries\n"
        "E-mailadres: noa@example.nl\n"
        "Telefoonnummer:  06 12345678\n"
        "Website: https://example.nl/offerte?x=1\n"
        "Opmerking: Bel mij\n"
        "   na vijf uur.\n"
        "Nieuwsbrief:\n"
        "\n"
        "-- \n"
        "Verzonden met Formulieren BV\n"
        "Contact: support@formulieren.example\n"
    )

    records = parse_message(_message(body).as_bytes())

    assert records == [
        {
            "Voornaam": "Noa",
            "Achternaam": "de Vries",
            "E-mailadres": "noa@example.nl",
            "Telefoonnummer": "06 12345678",
            "Website": "https://example.nl/offerte?x=1",
            "Opmerking": "Bel mij\nna vijf uur.",
            **META,
        }
    ]


def test_html_table_only_mail_reads_pairs_and_never_runs_scripts():
    html = """<html><head><title>Lead: 1</title><style>td { color: red }</style></head><body>
    <table width="100%"><tr><td>
      <table>
        <tr><th>Field</th><th>Value</th></tr>
        <tr><th>Naam:</th><td>Noa &amp; Sem <b>de Vries</b></td></tr>
        <tr><td>E-mail</td><td><a href="mailto:noa@example.nl">noa@example.nl</a></td></tr>
        <tr><td>Bericht</td><td>Regel een<br>Regel twee</td></tr>
        <tr><td>Telefoon</td><td>0612345678
      </table>
    </td><td>Sidebar: not a pair</td></tr></table>
    <p><strong>Postcode:</strong> 1234 AB</p>
    <script>Evil: alert(1)</script>
    </body></html>"""

    records = parse_message(_message(html=html).as_bytes())

    assert records == [
        {
            "Naam": "Noa & Sem de Vries",
            "E-mail": "noa@example.nl",
            "Bericht": "Regel een\nRegel twee",
            "Telefoon": "0612345678",
            "Sidebar": "not a pair",
            "Postcode": "1234 AB",
            **META,
        }
    ]


def test_text_body_without_labels_falls_back_to_the_html_part():
    message = _message(
        "Bekijk deze mail in HTML.",
        html="<table><tr><td>Voornaam</td><td>Noa</td></tr></table>",
    )

    records = parse_message(message.as_bytes())

    assert records == [{"Voornaam": "Noa", **META}]


def test_real_gmail_message_without_labels_gives_no_records():
    with open(shared_data_path("emails", "odoo_test_mail_multipart_mixed_gmail.eml"), "rb") as f:
        raw = f.read()

    records = parse_message(raw)

    assert records == []


def test_iso_8859_1_body_and_rfc_2047_headers_are_decoded():
    with open(shared_data_path("emails", "odoo_test_mail_multipart_mixed_gmail.eml"), "rb") as f:
        raw = f.read()
    labelled = "Naam: Raoul Grosbedonée\nPlaats: Liège\n".encode("iso-8859-1")
    raw = raw.replace(
        b"Should create a multipart/mixed: from gmail, *bold*, with attachment.\n", labelled, 1
    )
    raw = raw.replace(
        b"Subject: Test mail multipart/mixed",
        b"Subject: =?UTF-8?B?T2ZmZXJ0ZSDigqwgMTAwMA==?=",
    )

    records = parse_message(raw)

    assert records == [
        {
            "Naam": "Raoul Grosbedonée",
            "Plaats": "Liège",
            "_from": "ignasse.carambar@gmail.com",
            "_from_name": "Raoul Grosbedonée",
            "_reply_to": "",
            "_subject": "Offerte € 1000",
            "_message_id": "<CAP76m_V4BY2F7DWHzwfjteyhW8L2LJswVshtmtVym+LUJ=rASQ@mail.gmail.com>",
            "_date": "2013-08-23T13:17:54+02:00",
        }
    ]


def test_semicolon_windows_1252_csv_attachment_gives_one_record_per_row():
    message = _message("Zie bijlage.")
    csv_bytes = (
        "Voornaam;Achternaam;E-mailadres;Plaats;Opmerking\r\n"
        "José;Müller;jose@example.nl;Den Haag;Graag €50 korting\r\n"
        ";;;;\r\n"
        "Zoë;Ångström;zoe@example.be;Gent;\"=cmd|' /C calc'!A0\"\r\n"
    ).encode("cp1252")
    message.add_attachment(
        csv_bytes, maintype="application", subtype="octet-stream", filename="leads.csv"
    )

    records = parse_message(message.as_bytes())

    assert records == [
        {
            "Voornaam": "José",
            "Achternaam": "Müller",
            "E-mailadres": "jose@example.nl",
            "Plaats": "Den Haag",
            "Opmerking": "Graag €50 korting",
        },
        {
            "Voornaam": "Zoë",
            "Achternaam": "Ångström",
            "E-mailadres": "zoe@example.be",
            "Plaats": "Gent",
            "Opmerking": "=cmd|' /C calc'!A0",
        },
    ]


def test_csv_attachment_with_a_formula_header_is_refused():
    message = _message("Zie bijlage.")
    message.add_attachment(
        b"Naam,=cmd|' /C calc'!A0\r\nNoa,x\r\n", maintype="text", subtype="csv", filename="a.csv"
    )

    with pytest.raises(EmailParseError, match="looks like a formula"):
        parse_message(message.as_bytes())


def test_csv_attachment_over_the_record_limit_is_refused():
    message = _message("Zie bijlage.")
    rows = "".join(f"lead{n}@example.nl\n" for n in range(MAX_ATTACHMENT_RECORDS + 1))
    message.add_attachment(("email\n" + rows).encode(), maintype="text", subtype="csv")

    with pytest.raises(EmailParseError, match="more than 10000 records"):
        parse_message(message.as_bytes())


def test_vcard_attachment_gives_one_record_per_card():
    message = _message("Voornaam: Sem\n")
    cards = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Noa de Vries\r\nN:de Vries;Noa;;;\r\n"
        "EMAIL;TYPE=work:noa@example.nl\r\nEMAIL;TYPE=home:noa@thuis.example\r\n"
        "TEL;TYPE=cell:+31 6 12345678\r\nORG:Dakwerk BV;Verkoop\r\nTITLE:Inkoper\r\n"
        "ADR;TYPE=work:;;Dorpsstraat 1;Utrecht;;3511 AA;Nederland\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Zoë Jansen\r\nN:Jansen;Zoë;;;\r\n"
        "TEL:010 1234567\r\nEND:VCARD\r\n"
    )
    message.add_attachment(cards.encode(), maintype="text", subtype="vcard", filename="c.vcf")

    records = parse_message(message.as_bytes())

    assert records == [
        {"Voornaam": "Sem", **META},
        {
            "FN": "Noa de Vries",
            "N.given": "Noa",
            "N.family": "de Vries",
            "EMAIL": "noa@example.nl",
            "EMAIL 2": "noa@thuis.example",
            "TEL": "+31 6 12345678",
            "TITLE": "Inkoper",
            "ORG": "Dakwerk BV",
            "ORG.unit": "Verkoop",
            "ADR.street": "Dorpsstraat 1",
            "ADR.city": "Utrecht",
            "ADR.code": "3511 AA",
            "ADR.country": "Nederland",
        },
        {"FN": "Zoë Jansen", "N.given": "Zoë", "N.family": "Jansen", "TEL": "010 1234567"},
    ]


def test_mbox_with_three_messages_is_read_one_message_at_a_time(tmp_path):
    path = tmp_path / "leads.mbox"
    box = mailbox.mbox(path)
    for name in ("Noa", "Sem", "Zoë"):
        box.add(_message(f"Voornaam: {name}\nE-mail: {name.lower()}@example.nl\n").as_bytes())
    box.close()

    records = [parse_message(raw) for raw in iter_mbox(str(path))]

    assert [[(r["Voornaam"], r["E-mail"]) for r in rs] for rs in records] == [
        [("Noa", "noa@example.nl")],
        [("Sem", "sem@example.nl")],
        [("Zoë", "zoë@example.nl")],
    ]


@pytest.mark.parametrize("hostile", _blns_cases())
def test_hostile_strings_are_kept_as_given_in_body_and_csv(hostile):
    _blns()
    message = _message(f"Voornaam: Noa\nOpmerking: {hostile}\n")
    cell = hostile.replace('"', '""')
    message.add_attachment(
        f'Voornaam,Opmerking\r\nSem,"{cell}"\r\n'.encode(),
        maintype="text",
        subtype="csv",
        filename="x.csv",
    )

    body_record, csv_record = parse_message(message.as_bytes())

    expected_body = {"Opmerking": hostile.strip()} if hostile.strip() else {}
    assert {k: v for k, v in body_record.items() if k == "Opmerking"} == expected_body
    assert body_record["Voornaam"] == "Noa"
    assert csv_record == {"Voornaam": "Sem", "Opmerking": hostile}


def test_message_over_the_size_limit_is_refused():
    raw = _message("Voornaam: Noa\n" + "x" * 1000).as_bytes()
    raw += b"x" * (MAX_MESSAGE_BYTES - len(raw) + 1)

    with pytest.raises(EmailParseError, match="larger than 25 MB"):
        parse_message(raw)


def test_deeply_nested_html_tables_are_refused():
    html = "<table><tr><td>" * (MAX_TABLE_DEPTH + 1) + "Naam</td><td>Noa"

    with pytest.raises(EmailParseError, match="nested too deeply"):
        parse_message(_message(html=html).as_bytes())


def test_source_rules_cut_the_body_drop_and_rename_labels():
    body = (
        "Intro: ignore me\n"
        "=== LEAD ===\n"
        "Naam klant: Noa de Vries\n"
        "Intern nummer: 42\n"
        "Mail: noa@example.nl\n"
        "=== EINDE ===\n"
        "Afmelden: https://example.org/stop\n"
    )
    rules = {
        "body_start": r"^=== LEAD ===$",
        "body_end": r"^=== EINDE ===$",
        "ignore_labels": ["intern nummer", "_message_id"],
        "label_aliases": {"NAAM KLANT": "full name", "_reply_to": "email"},
    }

    records = parse_message(_message(body, reply_to="sem@example.nl").as_bytes(), rules=rules)

    assert records == [
        {
            "Mail": "noa@example.nl",
            "_from": "forms@example.org",
            "_from_name": "",
            "_subject": "Nieuwe aanvraag",
            "_date": "2025-03-14T09:30:00+01:00",
            "full name": "Noa de Vries",
            "email": "sem@example.nl",
        }
    ]


def test_invalid_rule_regex_is_a_parse_error():
    with pytest.raises(EmailParseError, match="body_start is not a valid regular expression"):
        parse_message(_message("Naam: Noa\n").as_bytes(), rules={"body_start": "("})


def test_a_rule_with_catastrophic_backtracking_stops_with_a_parse_error():
    # "(a|aa)+$" against forty a's and a b backtracks for ages; the rule's search is cut off, and
    # the message goes to quarantine with the reason instead of hanging the worker.
    body = "a" * 40 + "b\nNaam: Noa\nMail: noa@example.nl\n"

    with pytest.raises(EmailParseError, match="body_start took too long"):
        parse_message(_message(body).as_bytes(), rules={"body_start": r"^(a|aa)+$"})
