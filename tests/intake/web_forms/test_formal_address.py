"""A public web form addresses Dutch visitors as the form asks: "je" like the app, or "u"."""

import datetime as dt
import re
from urllib.parse import urlencode

import pytest
import time_machine
from babel.messages.pofile import read_po
from django.utils import translation

from leadloop import i18n
from leadloop.accounts.actors import SYSTEM
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import LeadForm
from leadloop.leads.models import ChannelKind
from tests.factories.leads import make_source

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
INFORMAL = {
    "sent_securely": "Je gegevens gaan beveiligd naar de organisatie achter dit formulier.",
    "consent_required": "Geef toestemming zodat we contact met je mogen opnemen.",
    "expired": "Dit formulier is verlopen. Controleer je gegevens en verstuur het opnieuw.",
    "received": "We hebben je gegevens ontvangen en nemen snel contact met je op.",
    "what_you_sent": "Wat je verstuurde",
    "rate_limited": "vaak verstuurd vanaf je netwerk",
}
FORMAL = {
    "sent_securely": "Uw gegevens gaan beveiligd naar de organisatie achter dit formulier.",
    "consent_required": "Geef toestemming zodat we contact met u mogen opnemen.",
    "expired": "Dit formulier is verlopen. Controleer uw gegevens en verstuur het opnieuw.",
    "received": "We hebben uw gegevens ontvangen en nemen snel contact met u op.",
    "what_you_sent": "Wat u verstuurde",
    "rate_limited": "vaak verstuurd vanaf uw netwerk",
}
WORDING = {False: INFORMAL, True: FORMAL}


@pytest.fixture(params=[False, True], ids=["je", "u"])
def dutch_form(request, db) -> LeadForm:
    source = make_source("Website forms", kind=ChannelKind.WEB_FORM)
    with translation.override("nl"):
        return web_forms.create_form(
            source=source,
            by=SYSTEM,
            title="Vraag een offerte aan",
            slug="offerte",
            consent_text="Ik ga akkoord dat Acme contact opneemt.",
            consent_version="1",
            language="nl",
            languages=["nl", "en"],
            is_formal=request.param,
        )


def _page(client, path="/f/offerte/"):
    page = client.get(path)
    token = re.search(r'name="_ll_token" value="([^"]+)"', page.content.decode()).group(1)
    return page.content.decode(), token


def _post(client, token, path="/f/offerte/", **fields):
    values = {
        "_ll_token": token,
        "first_name": "Ann",
        "last_name": "Smit",
        "email": "ann@example.com",
        "_ll_consent": "1",
        **fields,
    }
    return client.post(path, urlencode(values), content_type="application/x-www-form-urlencoded")


def _render_and_post(client, path="/f/offerte/", **fields):
    with time_machine.travel(START, tick=False) as clock:
        _, token = _page(client, path)
        clock.shift(dt.timedelta(seconds=8))
        return _post(client, token, path, **fields)


def _other(form: LeadForm) -> dict[str, str]:
    return WORDING[not form.is_formal]


def test_the_form_page_speaks_to_the_visitor_as_the_form_asks(client, dutch_form):
    html, _ = _page(client)

    wording = WORDING[dutch_form.is_formal]
    assert '<html lang="nl">' in html
    assert wording["sent_securely"] in html
    assert _other(dutch_form)["sent_securely"] not in html


def test_the_consent_error_speaks_to_the_visitor_as_the_form_asks(client, dutch_form):
    response = _render_and_post(client, _ll_consent="")

    html = response.content.decode()
    assert response.status_code == 422
    assert WORDING[dutch_form.is_formal]["consent_required"] in html
    assert _other(dutch_form)["consent_required"] not in html


def test_an_expired_form_speaks_to_the_visitor_as_the_form_asks(client, dutch_form):
    response = _post(client, "forged-token")

    html = response.content.decode()
    assert response.status_code == 422
    assert WORDING[dutch_form.is_formal]["expired"] in html
    assert _other(dutch_form)["expired"] not in html


def test_the_thank_you_page_speaks_to_the_visitor_as_the_form_asks(client, dutch_form):
    response = _render_and_post(client)

    with time_machine.travel(START + dt.timedelta(minutes=1)):
        thanks = client.get(response["Location"]).content.decode()

    wording = WORDING[dutch_form.is_formal]
    assert response.status_code == 303
    assert wording["received"] in thanks
    assert f'<h2 id="sent-title">{wording["what_you_sent"]}</h2>' in thanks
    assert wording["sent_securely"] in thanks
    assert _other(dutch_form)["received"] not in thanks


def test_the_rate_limit_page_speaks_to_the_visitor_as_the_form_asks(client, dutch_form):
    with time_machine.travel(START, tick=False) as clock:
        for number in range(web_forms.RATE_LIMIT + 1):
            _, token = _page(client)
            clock.shift(dt.timedelta(seconds=3))
            response = _post(client, token, email=f"p{number}@example.com")

    html = response.content.decode()
    assert response.status_code == 429
    assert WORDING[dutch_form.is_formal]["rate_limited"] in html
    assert _other(dutch_form)["rate_limited"] not in html


def test_english_visitors_read_the_same_words_either_way(client, dutch_form):
    html, _ = _page(client, "/f/offerte/?lang=en")
    thanks = _render_and_post(client, "/f/offerte/?lang=en")
    with time_machine.travel(START + dt.timedelta(minutes=1)):
        thanks_page = client.get(thanks["Location"]).content.decode()

    assert '<html lang="en">' in html
    assert "Your details are sent securely to the organisation behind this form." in html
    assert "We have received your details and will be in touch soon." in thanks_page
    assert "What you sent" in thanks_page


def test_the_builder_saves_the_form_of_address(client, marketing, dutch_form):
    client.force_login(marketing)
    data = {
        "title": dutch_form.title,
        "slug": dutch_form.slug,
        "source": dutch_form.source_id,
        "consent_text": dutch_form.consent_text,
        "consent_version": "1",
        "is_consent_required": "on",
        "is_active": "on",
        "language": "nl",
        "languages": ["nl", "en"],
    }
    before = dutch_form.is_formal

    flipped = client.post(
        f"/forms/{dutch_form.pk}/", data | ({} if before else {"is_formal": "on"})
    )
    dutch_form.refresh_from_db()
    flipped_to = dutch_form.is_formal
    page = client.get(f"/forms/{dutch_form.pk}/").content.decode()

    assert flipped.status_code == 302
    assert flipped_to is (not before)
    checked = re.search(r'<input type="checkbox" name="is_formal"[^>]*>', page).group(0)
    assert ("checked" in checked) is flipped_to


def test_a_new_form_addresses_visitors_informally(client, marketing, db):
    source = make_source("Brochures", kind=ChannelKind.WEB_FORM)
    client.force_login(marketing)

    client.post(
        "/forms/new/",
        {"title": "Brochure", "slug": "brochure", "source": source.pk, "is_active": "on"},
    )

    assert LeadForm.objects.get(slug="brochure").is_formal is False


def test_dutch_says_je_everywhere_and_u_only_where_a_form_asks_for_it():
    with i18n._po_path("nl").open("rb") as handle:
        catalog = read_po(handle)
    # A quoted “u” names the form of address (the builder's own help), it does not use it.
    formal_words = re.compile(r"(?<![“\"])\b(u|uw|uzelf)\b(?![”\"])", re.IGNORECASE)
    informal_words = re.compile(r"(?<![“\"])\b(je|jij|jou|jouw|jezelf)\b(?![”\"])", re.IGNORECASE)

    formal = [m for m in catalog if m.id and m.context == "formal address"]
    informal_with_u = [
        m.id for m in catalog if m.id and m.context is None and formal_words.search(str(m.string))
    ]

    assert informal_with_u == []
    with translation.override("en"):
        english = sorted(str(informal) for informal, _formal in web_forms.WORDING.values())
    assert sorted(str(m.id) for m in formal) == english
    assert all(formal_words.search(str(m.string)) for m in formal)
    assert not any(informal_words.search(str(m.string)) for m in formal)
