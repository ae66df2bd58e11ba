"""Lead mails as real senders write them, read with no per-source rules.

Each message is shaped after a public sample of its kind: a CRM's lead notification forwarded
from Gmail (its quoted header block, bold labels, a non-breaking space), a "request a demo"
notification whose HTML puts each label above its value, a property portal's mail with the
listing text after the contact method, a mail whose body is an ADF document (the ADF 1.0
sample in ../shared/data/adf), and website contact forms that send as themselves and put the
visitor in Reply-To or in a "From: Name <address>" line.
"""

from __future__ import annotations

from email.message import EmailMessage

from leadloop.intake.channels.email.parser import parse_message
from leadloop.intake.mapping import map_record
from tests.conftest import shared_data_path


def _mail(text: str | None = None, *, html: str | None = None, **headers: str) -> bytes:
    message = EmailMessage()
    message["From"] = headers.pop("sender", "notifications@crm.example")
    message["To"] = "leads@leadloop.example"
    message["Subject"] = headers.pop("subject", "New lead")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    if text is not None:
        message.set_content(text)
        if html is not None:
            message.add_alternative(html, subtype="html")
    elif html is not None:
        message.set_content(html, subtype="html")
    return message.as_bytes()


def _lead(raw: bytes) -> dict:
    records = parse_message(raw)
    assert len(records) == 1, records
    return map_record(records[0], None).lead_input()


def test_a_crm_notification_forwarded_from_webmail_is_read():
    text = (
        "FYI, lead from the website.\n"
        "\n"
        "---------- Forwarded message ---------\n"
        "From: Pipeline CRM <no-reply@pipeline.example>\n"
        "Date: Tue, 3 Dec 2026 at 09:12\n"
        "Subject: New lead assigned to you: Ann Peeters\n"
        "To: <sales@installateur.example>\n"
        "\n"
        "You have a new lead.\n"
        "\n"
        "*Name:* Ann Peeters\n"
        "*Company:* Peeters Bouw BV\n"
        "*Email:*\xa0ann@peetersbouw.example\n"
        "*Phone:* +32 470 12 34 56\n"
        "*Lead source:* Website\n"
        "\n"
        "> *Message:* Can you send a quote for 40 solar panels?\n"
    )
    raw = _mail(text, sender="Tom <tom@installateur.example>", subject="Fwd: New lead assigned")

    lead = _lead(raw)

    assert lead["email"] == "ann@peetersbouw.example"
    assert (lead["first_name"], lead["last_name"]) == ("Ann", "Peeters")
    assert lead["company_name"] == "Peeters Bouw BV"
    assert lead["phone"] == "+32 470 12 34 56"
    assert lead["extra"]["comments"] == "Can you send a quote for 40 solar panels?"
    # The forwarded header block is the forwarder's, not the lead's.
    assert "no-reply@pipeline.example" not in str(lead)


def test_a_request_a_demo_notification_with_labels_above_values_is_read():
    html = (
        "<html><body><h1>New form submission</h1>"
        "<p>Someone filled in <b>Request a demo</b> on your website.</p>"
        "<p><strong>First name</strong><br>Lotte</p>"
        "<p><strong>Last name</strong><br>van Dijk</p>"
        "<p><strong>Email</strong><br>lotte@vandijk-logistiek.example</p>"
        "<p><strong>Company name</strong><br>Van Dijk Logistiek</p>"
        "<p><strong>Job title</strong><br>Operations manager</p>"
        "<p><a href='https://crm.example/contacts/1'>View contact</a></p>"
        "</body></html>"
    )

    lead = _lead(_mail(html=html, subject="New submission: Request a demo"))

    assert lead["email"] == "lotte@vandijk-logistiek.example"
    assert (lead["first_name"], lead["last_name"]) == ("Lotte", "van Dijk")
    assert lead["company_name"] == "Van Dijk Logistiek"
    assert lead["job_title"] == "Operations manager"


def test_a_property_portal_mail_keeps_the_name_and_the_listing_apart():
    text = (
        "A consumer is interested in your listing.\n"
        "\n"
        "Consumer name: Pieter de Boer\n"
        "Email address: pieter.deboer@example.nl\n"
        "Phone number: 06 12345678\n"
        "Preferred contact method: Phone\n"
        "\n"
        "Listing\n"
        "Herengracht 100, Amsterdam\n"
        "Asking price EUR 1.250.000 k.k.\n"
        "4 bedrooms, 180 m2\n"
        "\n"
        "Message: Is a viewing possible on Saturday?\n"
    )

    records = parse_message(_mail(text, subject="Reaction to Herengracht 100"))
    lead = map_record(records[0], None).lead_input()

    assert (lead["first_name"], lead["last_name"]) == ("Pieter", "de Boer")
    assert records[0]["Preferred contact method"] == "Phone"
    assert lead["extra"]["comments"] == "Is a viewing possible on Saturday?"


def test_a_mail_whose_body_is_an_adf_document_is_read():
    with open(shared_data_path("adf", "sample2_spec_full_with_extension.xml"), "rb") as handle:
        document = handle.read().decode("utf-8")

    records = parse_message(_mail(document, subject="ADF lead"))

    assert len(records) == 1
    labels = " ".join(records[0])
    assert "adf." in labels or "vehicle" in labels, records[0]
    lead = map_record(records[0], None).lead_input()
    assert lead.get("email") or lead.get("phone"), records[0]


def test_a_contact_form_that_replies_to_the_visitor_gives_the_visitors_address():
    text = "Name: Jan Smit\nMessage: Please call me back about a heat pump.\n"
    raw = _mail(
        text,
        sender="Website <noreply@installateur.example>",
        subject="Contact form",
        reply_to="jan.smit@example.nl",
    )

    lead = _lead(raw)

    assert lead["email"] == "jan.smit@example.nl"
    assert (lead["first_name"], lead["last_name"]) == ("Jan", "Smit")


def test_the_sending_systems_own_address_is_never_the_leads():
    raw = _mail("Name: Jan Smit\nCity: Utrecht\n", sender="forms@installateur.example",
                reply_to="forms@installateur.example")  # fmt: skip

    lead = _lead(raw)

    assert "email" not in lead


def test_a_value_no_longer_swallows_the_paragraph_after_a_blank_line():
    text = "Name: Jan\nEmail: jan@example.nl\nBudget: 5000\n\nUnsubscribe from these mails here.\n"

    records = parse_message(_mail(text))

    assert records[0]["Budget"] == "5000"
