"""Web forms in the visitor's language: which language, the texts in it, and what is kept."""

import datetime as dt
import re
from urllib.parse import urlencode

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import translation
from django.utils.html import escape

from leadloop.accounts.actors import SYSTEM
from leadloop.errors import ValidationFailed
from leadloop.intake.models import RawSubmission
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import FieldInput, FormField, LeadForm
from leadloop.leads.models import ChannelKind, Lead
from tests.factories.leads import make_source

START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DUTCH = {
    "title": "Vraag een demo aan",
    "intro": "Vertel ons iets over je team.",
    "submit_label": "Demo aanvragen",
    "thank_you_message": "We bellen je deze week.",
    "consent_text": "Ik ga akkoord dat Acme contact met me opneemt.",
}


@pytest.fixture
def lead_form(db):
    source = make_source("Website forms", kind=ChannelKind.WEB_FORM)
    with translation.override("en"):
        form = web_forms.create_form(
            source=source,
            by=SYSTEM,
            title="Request a demo",
            slug="demo",
            intro="Tell us about your team.",
            submit_label="Request my demo",
            thank_you_message="We will call you this week.",
            consent_text="I agree that Acme may contact me.",
            consent_version="2026-03",
            language="en",
        )
    web_forms.add_field(
        form,
        by=SYSTEM,
        label="Team size",
        target="extra:team_size",
        input_type=FieldInput.TEXT,
        help_text="Roughly is fine.",
    )
    return form


@pytest.fixture
def bilingual_form(lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, languages=["en", "nl"], translations={"nl": DUTCH})
    team = lead_form.fields.get(name="team_size")
    web_forms.update_field(
        team,
        by=SYSTEM,
        translations={"nl": {"label": "Teamgrootte", "help_text": "Ongeveer is prima."}},
    )
    lead_form.refresh_from_db()
    return lead_form


def _post(client, path="/f/demo/", *, headers=None, seconds=8, **fields):
    headers = headers or {}
    with time_machine.travel(START, tick=False) as clock:
        page = client.get(path, headers=headers)
        token = re.search(r'name="_ll_token" value="([^"]+)"', page.content.decode()).group(1)
        language = re.search(r'name="_ll_lang" value="([^"]+)"', page.content.decode()).group(1)
        clock.shift(dt.timedelta(seconds=seconds))
        values = {
            "_ll_token": token,
            "_ll_lang": language,
            "first_name": "Ann",
            "last_name": "Smit",
            "email": "ann@example.com",
            "team_size": "12",
            "_ll_consent": "2026-03",
            **fields,
        }
        return client.post(
            path,
            urlencode(values),
            content_type="application/x-www-form-urlencoded",
            headers=headers,
        )


# --- Which language a visitor sees ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("asked", "page", "accept", "expected"),
    [
        ("nl", "", "en-GB,en;q=0.9", "nl"),  # ?lang= wins over the browser
        ("NL-be", "", "", "nl"),  # a regional variant of a language the form speaks
        ("", "nl-NL", "en-GB,en;q=0.9", "nl"),  # the embedding page's <html lang>
        ("fr", "nl", "", "nl"),  # an unsupported ?lang= is passed over
        ("", "", "fr-FR,nl;q=0.8,en;q=0.5", "nl"),  # the first the form speaks, by preference
        ("", "", "en;q=0.2, nl-NL;q=0.9", "nl"),  # q-values order, not the written order
        ("", "", "nl;q=0.4,en-GB;q=0.6", "en"),
        ("", "", "fr-FR,de;q=0.9,*;q=0.1", "en"),  # none spoken: the default language
        ("", "", "", "en"),
        ("xx-<script>", "", "garbage;;q=abc", "en"),
    ],
)
def test_the_visitor_language_is_chosen_by_query_then_page_then_browser(
    bilingual_form, asked, page, accept, expected
):
    chosen = web_forms.choose_language(bilingual_form, asked=asked, page=page, accept=accept)

    assert chosen == expected


def test_a_language_the_form_does_not_speak_falls_back_to_its_default(lead_form):
    chosen = web_forms.choose_language(lead_form, asked="nl", accept="nl-NL,nl;q=0.9")

    assert lead_form.enabled_languages == ["en"]
    assert chosen == "en"


# --- The texts in that language ---------------------------------------------------------------


def test_a_dutch_browser_sees_the_form_only_in_dutch(client, bilingual_form):
    response = client.get("/f/demo/", headers={"accept-language": "nl-NL,nl;q=0.9,en;q=0.5"})

    html = response.content.decode()
    assert '<html lang="nl">' in html
    assert "<title>Vraag een demo aan</title>" in html
    assert "<h1>Vraag een demo aan</h1>" in html
    assert "Vertel ons iets over je team." in html
    # Starter questions keep the builder's own label: the app's Dutch one is shown.
    assert '<label for="q-first_name">Voornaam <span class="req"' in html
    assert '<label for="q-phone">Telefoon <span class="optional">(optioneel)</span>' in html
    assert '<label for="q-team_size">Teamgrootte <span class="optional">(optioneel)</span>' in html
    assert "Ongeveer is prima." in html
    assert "Ik ga akkoord dat Acme contact met me opneemt." in html
    assert ">Demo aanvragen</button>" in html
    assert '<input type="hidden" name="_ll_lang" value="nl">' in html
    for english in ("First name", "(optional)", "Team size", "Roughly", "Request", "I agree"):
        assert english not in html
    assert "Accept-Language" in response["Vary"]


def test_an_english_browser_sees_the_same_form_only_in_english(client, bilingual_form):
    response = client.get("/f/demo/", headers={"accept-language": "en-GB,en;q=0.9"})

    html = response.content.decode()
    assert '<html lang="en">' in html
    assert '<label for="q-first_name">First name' in html
    assert '<span class="optional">(optional)</span>' in html
    assert ">Request my demo</button>" in html
    for dutch in ("Voornaam", "optioneel", "Teamgrootte", "Vraag een demo", "akkoord"):
        assert dutch not in html


def test_a_missing_translation_shows_the_default_language_text(client, lead_form):
    web_forms.update_form(
        lead_form, by=SYSTEM, languages=["en", "nl"], translations={"nl": {"title": "Demo"}}
    )

    html = client.get("/f/demo/?lang=nl").content.decode()

    assert "<h1>Demo</h1>" in html
    assert "Tell us about your team." in html  # intro not translated: the English one
    assert '<label for="q-team_size">Team size <span class="optional">(optioneel)</span>' in html
    assert "Roughly is fine." in html
    assert ">Request my demo</button>" in html


def test_an_empty_button_text_reads_the_apps_own_word_in_each_language(client, lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, submit_label="", languages=["en", "nl"])

    dutch = client.get("/f/demo/?lang=nl").content.decode()
    english = client.get("/f/demo/?lang=en").content.decode()

    assert ">Versturen</button>" in dutch
    assert ">Send</button>" in english


def test_the_builder_lists_what_is_not_translated_yet(client, admin, lead_form):
    web_forms.update_form(
        lead_form, by=SYSTEM, languages=["en", "nl"], translations={"nl": {"title": "Demo"}}
    )
    lead_form.refresh_from_db()
    client.force_login(admin)

    with translation.override("en"):
        texts = web_forms.missing_texts(lead_form, list(lead_form.fields.all()))
    html = client.get(f"/forms/{lead_form.pk}/", headers={"accept-language": "en"})

    assert texts == {
        "Dutch": [
            "Introduction",
            "Button text",
            "Thank-you message",
            "Consent text",
            "Team size",
        ]
    }
    assert "Not in Dutch yet" in html.content.decode()
    assert html.content.decode().count("Not in Dutch yet") == 1  # starter labels are covered


# --- Checks and the submission in that language -------------------------------------------------


def test_errors_come_in_the_visitors_language(client, bilingual_form):
    response = _post(
        client, headers={"accept-language": "nl-NL,nl;q=0.9"}, first_name="", email="ann@"
    )

    html = response.content.decode()
    assert response.status_code == 422
    assert '<html lang="nl">' in html
    assert "Verbeter de gemarkeerde velden hieronder." in html
    assert "Dit veld is verplicht." in html
    assert "This field is required." not in html
    assert "name@example.com" not in html
    assert '<label for="q-first_name">Voornaam' in html


def test_a_post_answers_in_the_language_the_form_was_shown_in(client, bilingual_form):
    # Shown in Dutch by ?lang=nl; the post itself carries no Dutch header.
    with time_machine.travel(START, tick=False) as clock:
        page = client.get("/f/demo/?lang=nl").content.decode()
        token = re.search(r'name="_ll_token" value="([^"]+)"', page).group(1)
        clock.shift(dt.timedelta(seconds=8))
        response = client.post(
            "/f/demo/",
            urlencode({"_ll_token": token, "_ll_lang": "nl", "first_name": ""}),
            content_type="application/x-www-form-urlencoded",
            headers={"accept-language": "en-GB"},
        )

    assert "Dit veld is verplicht." in response.content.decode()


def test_the_submission_and_lead_keep_the_language_the_visitor_saw(client, bilingual_form):
    response = _post(client, "/f/demo/?lang=nl")

    submission = RawSubmission.objects.get()
    lead = Lead.objects.get()
    assert response.status_code == 303
    assert "lang=nl" in response["Location"]
    assert submission.meta["language"] == "nl"
    assert submission.meta["consent"]["text"] == DUTCH["consent_text"]
    assert submission.meta["consent"]["language"] == "nl"
    assert lead.language == "nl"


def test_a_question_asking_the_language_wins_over_the_language_shown(client, bilingual_form):
    web_forms.add_field(bilingual_form, by=SYSTEM, label="Language", target="language")

    _post(client, "/f/demo/?lang=nl", language="en")

    assert Lead.objects.get().language == "en"


def test_the_thank_you_page_speaks_the_visitors_language(client, bilingual_form):
    response = _post(client, "/f/demo/?lang=nl")

    with time_machine.travel(START + dt.timedelta(seconds=10)):
        thanks = client.get(response["Location"]).content.decode()

    assert '<html lang="nl">' in thanks
    assert "<h1>Bedankt</h1>" in thanks
    assert "We bellen je deze week." in thanks
    assert "<dt>Voornaam</dt>" in thanks
    assert "<dt>Teamgrootte</dt>" in thanks
    assert "We will call" not in thanks


# --- Building -----------------------------------------------------------------------------------


def test_hostile_translated_texts_are_shown_as_text(client, admin, lead_form):
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    web_forms.update_form(
        lead_form,
        by=SYSTEM,
        languages=["en", "nl"],
        translations={"nl": dict.fromkeys(web_forms.FORM_TEXTS, hostile)},
    )
    team = lead_form.fields.get(name="team_size")
    web_forms.update_field(
        team, by=SYSTEM, translations={"nl": {"label": hostile, "help_text": hostile}}
    )
    client.force_login(admin)

    public = client.get("/f/demo/?lang=nl").content.decode()
    builder = client.get(f"/forms/{lead_form.pk}/").content.decode()
    question = client.get(f"/forms/{lead_form.pk}/fields/{team.pk}/").content.decode()

    for html in (public, builder, question):
        assert "<script>alert" not in html
        assert "<img src=x" not in html
    assert escape(hostile) in public
    assert escape(hostile) in builder
    assert escape(hostile) in question


def test_the_author_enters_dutch_texts_in_the_builder(client, marketing, lead_form):
    client.force_login(marketing)
    data = {
        "title": "Request a demo",
        "slug": "demo",
        "source": lead_form.source_id,
        "submit_label": "Request my demo",
        "consent_text": "I agree that Acme may contact me.",
        "consent_version": "2026-03",
        "is_consent_required": "on",
        "is_active": "on",
        "language": "en",
        "languages": ["en", "nl"],
        "nl_title": "  Vraag een demo aan ",
        "nl_submit_label": "Demo aanvragen",
        "nl_consent_text": "",
    }

    response = client.post(f"/forms/{lead_form.pk}/", data)

    lead_form.refresh_from_db()
    assert response.status_code == 302
    assert lead_form.enabled_languages == ["en", "nl"]
    assert lead_form.translations == {
        "nl": {"title": "Vraag een demo aan", "submit_label": "Demo aanvragen"}
    }


def test_the_author_translates_a_question(client, marketing, lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, languages=["en", "nl"])
    team = lead_form.fields.get(name="team_size")
    client.force_login(marketing)

    page = client.get(f"/forms/{lead_form.pk}/fields/{team.pk}/").content.decode()
    response = client.post(
        f"/forms/{lead_form.pk}/fields/{team.pk}/",
        {
            "label": "Team size",
            "target": "extra",
            "extra_name": "team_size",
            "input_type": "text",
            "nl_label": "Teamgrootte",
            "nl_help_text": "",
        },
    )

    team.refresh_from_db()
    assert 'name="nl_label"' in page
    assert 'placeholder="Team size"' in page
    assert response.status_code == 302
    assert team.translations == {"nl": {"label": "Teamgrootte"}}


def test_a_translation_over_its_length_is_refused(lead_form):
    with pytest.raises(ValidationFailed) as refused:
        web_forms.update_form(
            lead_form, by=SYSTEM, languages=["en", "nl"], translations={"nl": {"title": "x" * 201}}
        )

    lead_form.refresh_from_db()
    assert list(refused.value.errors) == ["nl_title"]
    assert lead_form.translations == {}


def test_an_unknown_default_language_is_refused(lead_form):
    with pytest.raises(ValidationFailed) as refused:
        web_forms.update_form(lead_form, by=SYSTEM, language="fr")

    assert list(refused.value.errors) == ["language"]
    assert LeadForm.objects.get().language == "en"


def test_changing_the_default_language_swaps_the_texts(lead_form):
    web_forms.update_form(lead_form, by=SYSTEM, languages=["en", "nl"], translations={"nl": DUTCH})

    web_forms.update_form(lead_form, by=SYSTEM, language="nl")

    lead_form.refresh_from_db()
    first_name = lead_form.fields.get(name="first_name")
    team = lead_form.fields.get(name="team_size")
    assert lead_form.language == "nl"
    assert lead_form.enabled_languages == ["nl", "en"]
    assert (lead_form.title, lead_form.submit_label) == ("Vraag een demo aan", "Demo aanvragen")
    assert lead_form.translations["en"]["title"] == "Request a demo"
    assert first_name.label == "Voornaam"
    assert first_name.translations == {"en": {"label": "First name"}}
    assert team.label == "Team size"  # not translated: keeps its wording


def test_a_new_form_in_dutch_starts_with_dutch_questions(db):
    source = make_source("Site", kind=ChannelKind.WEB_FORM)

    with translation.override("en"):
        form = web_forms.create_form(
            source=source, by=SYSTEM, title="Offerte", slug="offerte", language="nl"
        )

    labels = list(FormField.objects.filter(form=form).values_list("label", flat=True))
    assert form.enabled_languages == ["nl"]
    assert labels[:3] == ["Voornaam", "Achternaam", "E-mail"]


# --- The migration ------------------------------------------------------------------------------


BEFORE = [("intake", "0010_submission_review_disposition")]
AFTER = [("intake", "0011_web_form_languages")]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def old_apps(transactional_db):
    apps = _migrate(BEFORE)
    yield apps
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def test_existing_texts_become_the_texts_of_the_deployments_language(old_apps, settings):
    settings.LANGUAGE_CODE = "nl"
    Source = old_apps.get_model("leads", "Source")
    OldForm = old_apps.get_model("intake", "LeadForm")
    OldField = old_apps.get_model("intake", "FormField")
    source = Source.objects.create(name="Site", kind="web_form")
    old = OldForm.objects.create(
        source=source, slug="oud", title="Offerte aanvragen", submit_label="Verstuur"
    )
    OldField.objects.create(form=old, name="email", label="Je e-mail", target="email")

    _migrate(AFTER)
    # Read through today's model, which has the columns later migrations add.
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())

    form = LeadForm.objects.get(pk=old.pk)
    assert (form.language, form.languages, form.translations) == ("nl", ["nl"], {})
    assert FormField.objects.get(form=form).translations == {}
    texts = web_forms.form_texts(form, web_forms.choose_language(form, accept="en-GB"))
    assert (texts.language, texts.title, texts.submit_label) == (
        "nl",
        "Offerte aanvragen",
        "Verstuur",
    )
