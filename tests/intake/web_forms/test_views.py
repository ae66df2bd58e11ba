"""Web forms: the builder, the hosted page at /f/<slug>/, and posts through the one intake."""

import datetime as dt
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import translation
from django.utils.html import escape

from leadloop.accounts.actors import SYSTEM
from leadloop.errors import ValidationFailed
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import FieldInput, LeadForm
from leadloop.leads.models import ChannelKind, Lead
from tests.conftest import shared_data_path
from tests.factories.leads import make_source

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def web_source(db):
    return make_source("Website forms", kind=ChannelKind.WEB_FORM)


@pytest.fixture
def lead_form(web_source):
    # Starter labels come in the builder's language; a Dutch request earlier may have left it on.
    with translation.override("en"):
        form = web_forms.create_form(
            source=web_source,
            by=SYSTEM,
            title="Request a demo",
            slug="demo",
            consent_text="I agree that Acme may contact me about my request.",
            consent_version="2026-03",
            consent_purpose="Contact about a demo",
        )
    web_forms.add_field(
        form, by=SYSTEM, label="Team size", target="extra:team_size", input_type=FieldInput.TEXT
    )
    return form


def _render(client, path="/f/demo/", **headers):
    response = client.get(path, headers=headers)
    token = re.search(rb'name="_ll_token" value="([^"]+)"', response.content).group(1).decode()
    return response, token


def _post(client, token, path="/f/demo/", **fields):
    values = {
        "_ll_token": token,
        "first_name": "Ann",
        "last_name": "Smit",
        "email": "ann@example.com",
        "phone": "",
        "comments": "",
        "team_size": "12",
        "_ll_consent": "2026-03",
        "homepage": "",
        **fields,
    }
    body = urlencode(values)
    response = client.post(path, body, content_type="application/x-www-form-urlencoded")
    return response, body.encode()


def _render_and_post(client, *, seconds=8, render_path="/f/demo/", post_path=None, **fields):
    with time_machine.travel(START, tick=False) as clock:
        _, token = _render(client, render_path)
        clock.shift(dt.timedelta(seconds=seconds))
        return _post(client, token, post_path or render_path, **fields)


def test_a_submission_creates_a_lead_with_consent_utm_and_referrer(client, lead_form):
    with time_machine.travel(START, tick=False) as clock:
        _, token = _render(
            client, "/f/demo/?utm_source=news&utm_campaign=spring", referer="https://acme.test/blog"
        )
        clock.shift(dt.timedelta(seconds=9))

        response, _ = _post(client, token, "/f/demo/?utm_source=news&utm_campaign=spring")

    submission = RawSubmission.objects.get()
    lead = Lead.objects.get()
    assert response.status_code == 303
    assert response["Location"].startswith("/f/demo/thanks/?s=")
    assert submission.channel == "web_form"
    assert submission.state == SubmissionState.PROCESSED
    assert submission.lead_id == lead.pk
    assert (lead.first_name, lead.last_name, lead.email) == ("Ann", "Smit", "ann@example.com")
    assert lead.extra == {"team_size": "12"}
    assert (lead.consent_purpose, lead.consent_text_version) == ("Contact about a demo", "2026-03")
    assert lead.consent_at == START + dt.timedelta(seconds=9)
    assert (lead.utm_source, lead.utm_campaign) == ("news", "spring")
    assert lead.referrer == "https://acme.test/blog"
    assert lead.landing_page == "http://testserver/f/demo/"
    assert submission.meta["consent"] == {
        "shown": True,
        "required": True,
        "version": "2026-03",
        "text": "I agree that Acme may contact me about my request.",
        "language": "en",
        "purpose": "Contact about a demo",
        "given": True,
        "at": (START + dt.timedelta(seconds=9)).isoformat(),
        "ip": "127.0.0.1",
        "user_agent": "",
    }
    assert submission.meta["language"] == "en"
    assert lead.language == "en"
    assert submission.meta["time_to_submit_ms"] == 9000
    assert submission.meta["honeypot_filled"] is False


def test_the_raw_post_body_is_stored_byte_for_byte(client, lead_form):
    response, body = _render_and_post(client, first_name="Zoë & Co", comments="a+b=c; 100%")

    submission = RawSubmission.objects.get()
    assert response.status_code == 303
    assert bytes(submission.body) == body
    assert submission.content_type == "application/x-www-form-urlencoded"
    assert Lead.objects.get().first_name == "Zoë & Co"


def test_technical_fields_stay_out_of_the_lead_and_go_to_meta(client, lead_form):
    response, _ = _render_and_post(
        client, _ll_fp="fp1:abc", _ll_webdriver="1", _ll_plugins="0", _ll_ttsm="7400"
    )

    submission = RawSubmission.objects.get()
    assert response.status_code == 303
    assert set(submission.fields) == {
        "first_name", "last_name", "email", "phone", "comments", "team_size",
        "consent_purpose", "consent_at", "consent_text_version", "language",
    }  # fmt: skip
    assert submission.meta["fingerprint"] == "fp1:abc"
    assert submission.meta["headless"]["webdriver"] is True
    assert submission.meta["headless"]["plugins"] == 0
    assert submission.meta["client_time_to_submit_ms"] == 7400


def test_a_missing_required_field_shows_the_form_again_and_rejects_the_stored_post(
    client, lead_form
):
    response, body = _render_and_post(client, email="")

    submission = RawSubmission.objects.get()
    html = response.content.decode()
    assert response.status_code == 422
    assert 'id="q-email" name="email" value="" autocomplete="email"' in html
    assert 'aria-invalid="true" aria-describedby="q-email-error"' in html
    assert '<p class="field__errors" id="q-email-error">This field is required. </p>' in html
    assert 'value="Ann"' in html
    assert bytes(submission.body) == body
    assert submission.state == SubmissionState.REJECTED
    assert submission.reasons == [
        {"code": "invalid_form", "message": "This field is required.", "field": "email"}
    ]
    assert Lead.objects.count() == 0


@pytest.mark.parametrize("address", ["ann@localhost", "ann@shop.invalid", "ann@[127.0.0.1]"])
def test_the_form_judges_an_address_as_every_other_way_in_does(client, lead_form, address):
    """Django's validator accepts these; email-validator (leads.normalize), which every other
    channel uses, does not. The form asks the visitor to fix it instead of making a lead whose
    address is then set aside."""
    from django.core.validators import validate_email

    from leadloop.leads.normalize import InvalidValue, normalize_email

    validate_email(address)  # Django's own validator would have let it through
    with pytest.raises(InvalidValue):
        normalize_email(address)

    response, _body = _render_and_post(client, email=address)

    assert response.status_code == 422
    assert "Enter an e-mail address like name@example.com." in response.content.decode()
    assert RawSubmission.objects.get().state == SubmissionState.REJECTED
    assert Lead.objects.count() == 0


def test_a_dutch_visitor_is_asked_in_dutch_to_fix_an_address_intake_would_refuse(client, lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, languages=["en", "nl"])
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "nl-NL,nl;q=0.9"

    response, _body = _render_and_post(client, email="ann@localhost")

    assert response.status_code == 422
    assert "Vul een e-mailadres in zoals naam@voorbeeld.nl." in response.content.decode()
    assert "name@example.com" not in response.content.decode()
    assert Lead.objects.count() == 0


def test_an_international_address_is_accepted_on_the_form(client, lead_form):
    response, _body = _render_and_post(client, email="jörg@müller.de")

    assert response.status_code == 303
    assert Lead.objects.get().email == "jörg@müller.de"


def test_a_required_consent_not_ticked_is_refused(client, lead_form):
    response, _ = _render_and_post(client, _ll_consent="")

    html = response.content.decode()
    assert response.status_code == 422
    assert '<fieldset class="consent has-error" aria-describedby="consent-error">' in html
    assert RawSubmission.objects.get().state == SubmissionState.REJECTED
    assert Lead.objects.count() == 0


def test_the_corrected_form_keeps_the_first_render_time_and_makes_one_lead(client, lead_form):
    with time_machine.travel(START, tick=False) as clock:
        _, token = _render(client)
        clock.shift(dt.timedelta(seconds=10))
        invalid, _ = _post(client, token, email="")
        second = re.search(rb'name="_ll_token" value="([^"]+)"', invalid.content).group(1)
        clock.shift(dt.timedelta(seconds=1))

        response, _ = _post(client, second.decode())

    assert response.status_code == 303
    assert RawSubmission.objects.count() == 2
    assert Lead.objects.count() == 1
    assert RawSubmission.objects.order_by("pk").last().meta["time_to_submit_ms"] == 11000


@pytest.mark.parametrize(
    ("fields", "seconds", "code"),
    [({"homepage": "https://spam.example"}, 8, "honeypot"), ({}, 1, "too_fast")],
)
def test_bots_are_stored_and_thanked_but_make_no_lead(client, lead_form, fields, seconds, code):
    response, body = _render_and_post(client, seconds=seconds, **fields)

    submission = RawSubmission.objects.get()
    assert response.status_code == 303
    assert response["Location"].startswith("/f/demo/thanks/")
    assert bytes(submission.body) == body
    assert submission.state == SubmissionState.REJECTED
    assert [r["code"] for r in submission.reasons] == [code]
    assert submission.meta["honeypot_filled"] is (code == "honeypot")
    assert Lead.objects.count() == 0


def test_a_post_the_fraud_screen_refuses_is_thanked_and_kept_for_review(client, lead_form):
    from leadloop.accounts.actors import SYSTEM
    from leadloop.assessment.scoring import services as config

    config.create_block_entry(by=SYSTEM, kind="email_domain", value="spam-farm.nl")

    response, _ = _render_and_post(client, email="ann@spam-farm.nl")

    submission = RawSubmission.objects.get()
    assert response.status_code == 303
    assert response["Location"].startswith("/f/demo/thanks/")
    assert submission.state == SubmissionState.REJECTED
    assert [(r["code"], r["message"]) for r in submission.reasons] == [
        ("fraud", "E-mail domain spam-farm.nl is blocked.")
    ]
    assert Lead.objects.count() == 0


def test_a_forged_token_is_stored_and_the_form_shown_again(client, lead_form):
    response, _ = _post(client, "forged-token")

    submission = RawSubmission.objects.get()
    assert response.status_code == 422
    assert b"This form has expired." in response.content
    assert submission.meta["token_valid"] is False
    assert submission.idempotency_key == ""
    assert [r["code"] for r in submission.reasons] == ["bad_token"]
    assert Lead.objects.count() == 0


def test_the_rate_limit_answers_429_and_stores_nothing_more(client, lead_form):
    with time_machine.travel(START, tick=False) as clock:
        for number in range(web_forms.RATE_LIMIT):
            _, token = _render(client)
            clock.shift(dt.timedelta(seconds=3))
            _post(client, token, email=f"p{number}@example.com")
        _, token = _render(client)
        clock.shift(dt.timedelta(seconds=3))

        response, _ = _post(client, token, email="late@example.com")

        clock.shift(web_forms.RATE_WINDOW)
        _, token = _render(client)
        clock.shift(dt.timedelta(seconds=3))
        later, _ = _post(client, token, email="later@example.com")

    lead_form.refresh_from_db()
    assert response.status_code == 429
    assert response["Retry-After"] == "600"
    assert b"Too many attempts" in response.content
    assert lead_form.rate_limited_count == 1
    assert later.status_code == 303
    assert RawSubmission.objects.count() == web_forms.RATE_LIMIT + 1
    assert not Lead.objects.filter(email="late@example.com").exists()


def test_a_double_submit_with_the_same_render_token_makes_one_lead(client, lead_form):
    with time_machine.travel(START, tick=False) as clock:
        _, token = _render(client)
        clock.shift(dt.timedelta(seconds=6))

        first, _ = _post(client, token)
        second, _ = _post(client, token)

    assert (first.status_code, second.status_code) == (303, 303)
    assert RawSubmission.objects.count() == 1
    assert Lead.objects.count() == 1


def test_one_render_token_replayed_with_many_bodies_makes_few_leads(client, lead_form):
    with time_machine.travel(START, tick=False) as clock:
        _, token = _render(client)
        clock.shift(dt.timedelta(seconds=6))

        answers = [_post(client, token, email=f"r{n}@example.com")[0] for n in range(8)]

    assert {a.status_code for a in answers} == {303}
    assert RawSubmission.objects.count() == 8
    assert Lead.objects.count() == 1 + web_forms.MAX_VARIANTS_PER_TOKEN


def test_the_hosted_page_speaks_dutch_with_lang_nl_or_accept_language(client, lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, languages=["en", "nl"])
    by_query = client.get("/f/demo/?lang=nl")
    by_header = client.get("/f/demo/", headers={"accept-language": "nl-NL,nl;q=0.9"})

    for response in (by_query, by_header):
        html = response.content.decode()
        assert '<html lang="nl"' in html
        assert ">Versturen</button>" in html
        assert "<legend>Toestemming" in html


def test_the_hosted_page_is_accessible_and_frameable_only_there(client, lead_form, admin):
    response = client.get("/f/demo/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "; frame-ancestors *; " in response["Content-Security-Policy"]
    assert '<label for="q-first_name">First name' in html
    assert '<fieldset class="consent">' in html
    assert 'class="sidenav"' not in html
    client.force_login(admin)
    assert client.get("/forms/")["X-Frame-Options"] == "DENY"


def test_a_form_that_is_switched_off_is_not_found(client, lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, is_active=False)

    response = client.get("/f/demo/")

    assert response.status_code == 404


def _hostile_lines():
    path = Path(shared_data_path("hostile", "blns.txt"))
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_hostile_strings_in_every_field_are_stored_as_given_and_shown_inertly(client, lead_form):
    for number, text in enumerate(_hostile_lines()):
        client.logout()
        fields = {
            "first_name": text,
            "last_name": text,
            "phone": text,
            "comments": text,
            "team_size": text,
            "email": f"h{number}@example.com",
        }
        with time_machine.travel(START + dt.timedelta(hours=number), tick=False) as clock:
            _, token = _render(client)
            clock.shift(dt.timedelta(seconds=5))
            response, body = _post(client, token, **fields)
            thanks = client.get(response["Location"])

        submission = RawSubmission.objects.get(meta__ip="127.0.0.1", body_sha256=_sha(body))
        assert bytes(submission.body) == body, text
        assert submission.fields["comments"] == text, text
        assert thanks.status_code == 200, text
        if text.strip() and "\x00" not in text:
            assert escape(text.strip()).encode() in thanks.content, text
        assert submission.lead is not None, (text, submission.reasons)
        assert b"<script>alert" not in thanks.content, text
        # The lead page shows every one of these strings escaped: tests/web/test_hostile_input.py.


def _sha(body: bytes) -> str:
    import hashlib

    return hashlib.sha256(body).hexdigest()


def test_a_redirect_url_must_be_a_web_address(lead_form):
    with pytest.raises(ValidationFailed) as refused:
        web_forms.update_form(lead_form, by=SYSTEM, redirect_url="javascript:alert(1)")

    lead_form.refresh_from_db()
    assert list(refused.value.errors) == ["redirect_url"]
    assert lead_form.redirect_url == ""


def test_after_sending_the_visitor_goes_to_the_redirect_url(client, lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, redirect_url="https://acme.test/thanks")

    response, _ = _render_and_post(client)

    assert response.status_code == 302
    assert response["Location"] == "https://acme.test/thanks"
    assert Lead.objects.count() == 1


def test_the_thanks_page_shows_what_was_sent(client, lead_form):
    response, _ = _render_and_post(client, first_name="<b>Ann</b>")

    with time_machine.travel(START + dt.timedelta(minutes=1)):
        thanks = client.get(response["Location"])

    assert thanks.status_code == 200
    assert b"Thank you" in thanks.content
    assert b"&lt;b&gt;Ann&lt;/b&gt;" in thanks.content
    assert b"<b>Ann</b>" not in thanks.content


# --- Builder -------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["rep", "partner_user"])
def test_reps_and_partners_cannot_open_or_change_the_builder(client, lead_form, who, request):
    client.force_login(request.getfixturevalue(who))
    before = list(LeadForm.objects.values_list("title", flat=True))

    pages = [client.get(path) for path in ("/forms/", "/forms/new/", f"/forms/{lead_form.pk}/")]
    changed = client.post(
        f"/forms/{lead_form.pk}/",
        {"title": "Hacked", "slug": "demo", "source": lead_form.source_id},
    )
    added = client.post(
        f"/forms/{lead_form.pk}/fields/",
        {"new-label": "X", "new-target": "city", "new-input_type": "text"},
    )

    assert [p.status_code for p in pages] == [403, 403, 403]
    assert (changed.status_code, added.status_code) == (403, 403)
    assert list(LeadForm.objects.values_list("title", flat=True)) == before
    assert lead_form.fields.count() == 6


def test_marketing_creates_a_form_with_starter_fields(client, marketing, web_source):
    client.force_login(marketing)

    response = client.post(
        "/forms/new/",
        {
            "title": "Brochure",
            "slug": "brochure",
            "source": web_source.pk,
            "consent_text": "Yes, send me the brochure.",
            "consent_version": "1",
            "is_consent_required": "on",
            "is_active": "on",
        },
    )

    created = LeadForm.objects.get(slug="brochure")
    assert response.status_code == 302
    assert response["Location"] == f"/forms/{created.pk}/"
    assert [f.name for f in created.fields.all()] == [
        "first_name", "last_name", "email", "phone", "comments",
    ]  # fmt: skip
    page = client.get(response["Location"])
    assert b"/f/brochure/embed.js" in page.content
    assert b"?embed=1" in page.content


def test_the_builder_refuses_a_javascript_redirect(client, marketing, lead_form):
    client.force_login(marketing)

    response = client.post(
        f"/forms/{lead_form.pk}/",
        {
            "title": "Request a demo",
            "slug": "demo",
            "source": lead_form.source_id,
            "redirect_url": "javascript:alert(document.cookie)",
            "consent_text": lead_form.consent_text,
            "consent_version": "2026-03",
        },
    )

    lead_form.refresh_from_db()
    assert response.status_code == 422
    assert lead_form.redirect_url == ""


def test_questions_are_added_moved_and_removed(client, marketing, lead_form):
    client.force_login(marketing)

    added = client.post(
        f"/forms/{lead_form.pk}/fields/",
        {
            "new-label": "Interest",
            "new-target": "extra",
            "new-extra_name": "interest",
            "new-input_type": "select",
            "new-choices": "Sales\nSupport",
        },
        headers={"HX-Request": "true"},
    )
    interest = lead_form.fields.get(name="interest")
    moved = client.post(f"/forms/{lead_form.pk}/fields/{interest.pk}/move/", {"direction": "up"})
    email = lead_form.fields.get(name="email")
    removed = client.post(f"/forms/{lead_form.pk}/fields/{email.pk}/remove/")

    assert added.status_code == 200
    assert b"Interest" in added.content
    assert moved.status_code == 302
    assert removed.status_code == 302
    assert [f.name for f in lead_form.fields.all()] == [
        "first_name", "last_name", "phone", "comments", "interest", "team_size",
    ]  # fmt: skip
    assert b"Add an e-mail or phone field" not in client.get(f"/forms/{lead_form.pk}/").content


def test_an_extra_field_named_like_a_lead_field_is_refused(lead_form):
    with pytest.raises(ValidationFailed) as refused:
        web_forms.add_field(lead_form, by=SYSTEM, label="E-mail", target="extra:email")

    assert list(refused.value.errors) == ["target"]
    assert lead_form.fields.count() == 6


def test_the_embed_script_points_at_the_hosted_form(client, lead_form):
    response = client.get("/f/demo/embed.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert b'var hosted = "http://testserver/f/demo/";' in response.content


def test_the_form_sets_up_the_source_mapping_for_its_labels(lead_form):
    lead_form.source.refresh_from_db()

    fields = lead_form.source.field_mapping["fields"]

    assert fields["team_size"] == "extra"
    assert fields["consent_at"] == "consent_at"
    assert "email" not in fields
