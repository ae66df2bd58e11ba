"""English and Dutch from day one: every user-facing string has a Dutch translation."""

from __future__ import annotations

from django.urls import reverse

from leadloop import i18n
from tests.factories.leads import make_lead


def test_every_user_facing_string_has_a_dutch_translation():
    assert i18n.missing("nl") == []


def test_a_page_in_dutch_shows_dutch_labels(logged_in_client, admin, source):
    lead = make_lead(source, first_name="Ann")
    client = logged_in_client(admin)
    client.cookies["django_language"] = "nl"

    detail = client.get(reverse("leads:lead-detail", args=[lead.pk]))
    listing = client.get(reverse("leads:lead-list"))

    assert '<html lang="nl"' in detail.text
    assert ">Tijdlijn</h2>" in detail.text
    assert ">Vastleggen</button>" in detail.text
    assert '<span class="badge badge--nurturing">In nurturing</span>' in detail.text
    assert "1 lead</h2>" in listing.text
    assert " Nieuwe lead</a>" in listing.text


def test_dutch_plural_counts(logged_in_client, admin, source):
    make_lead(source)
    make_lead(source)
    client = logged_in_client(admin)
    client.cookies["django_language"] = "nl"

    response = client.get(reverse("leads:lead-list"))

    assert "2 leads</h2>" in response.text
