"""The review pages: the queue, one submission, fix and reprocess, the original, the mapping editor.

Submissions are made the way senders make them: a POST to /in/<key> through the test client.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from leadloop.accounts.actors import SYSTEM
from leadloop.intake import selectors
from leadloop.intake.models import RawSubmission, SubmissionState
from leadloop.leads import services as leads_services
from leadloop.leads.models import Lead
from tests.conftest import shared_data_path
from tests.factories.leads import make_lead, make_source_with_key

QUEUE = reverse("intake:submission-list")
UNMAPPED = {"Klantmail": "ann@example.com", "Naam": "Ann Smit"}


@pytest.fixture
def provider(db):
    # The queue's states are the subject here: this source refuses a lead without an e-mail or
    # phone outright (the lead rules' own tests are in tests/intake/test_views.py).
    return make_source_with_key("Provider", minimum_contact="email_or_phone", on_invalid="reject")


def _post(key: str, body: bytes | str, content_type: str = "application/json") -> RawSubmission:
    """A sender posts a payload; returns the submission it became."""
    Client().generic("POST", f"/in/{key}", body, content_type=content_type)
    return RawSubmission.objects.order_by("-pk").first()


def _rejected(key: str, **fields: str) -> RawSubmission:
    """No label the synonyms know as e-mail or phone: rejected for lack of contact."""
    return _post(key, json.dumps({**UNMAPPED, **fields}))


def _quarantined(key: str, text: str = '{"email": "broken') -> RawSubmission:
    """JSON that does not parse: quarantined for a person."""
    return _post(key, text)


def _tab_count(response, state: str) -> int:
    match = re.search(
        rf'view-pill--{state}[^"]*"[^>]*>[^<]*<span class="chip-count[^"]*">(\d+)</span>',
        response.text,
    )
    assert match, f"no tab for {state}"
    return int(match.group(1))


def _queue_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'class="queue-id" href="[^"]+">#(\d+)</a>', response.text)]


# --- Who may see what ----------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["admin", "marketing"])
def test_admin_and_marketing_open_the_queue_detail_and_mapping(
    request, logged_in_client, provider, role
):
    source, key = provider
    submission = _quarantined(key)
    client = logged_in_client(request.getfixturevalue(role))

    queue = client.get(QUEUE)
    detail = client.get(reverse("intake:submission-detail", args=[submission.pk]))
    mapping = client.get(reverse("intake:source-mapping", args=[source.pk]))

    assert (queue.status_code, detail.status_code, mapping.status_code) == (200, 200, 200)
    assert _queue_ids(queue) == [submission.pk]


@pytest.mark.parametrize("role", ["rep", "manager", "partner_user"])
def test_other_roles_get_404_for_every_review_page_and_change_nothing(
    request, logged_in_client, provider, role
):
    source, key = provider
    submission = _quarantined(key)
    client = logged_in_client(request.getfixturevalue(role))

    answers = [
        client.get(QUEUE).status_code,
        client.get(reverse("intake:submission-detail", args=[submission.pk])).status_code,
        client.get(reverse("intake:submission-download", args=[submission.pk])).status_code,
        client.get(reverse("intake:source-mapping", args=[source.pk])).status_code,
        client.post(reverse("intake:submission-reprocess", args=[submission.pk])).status_code,
        client.post(
            reverse("intake:submission-fix", args=[submission.pk]), {"fields_text": "email: a@b.nl"}
        ).status_code,
        client.post(
            reverse("intake:source-mapping", args=[source.pk]),
            {"field_label": "Klantmail", "field_target": "email"},
        ).status_code,
        client.post(reverse("intake:source-reprocess-all", args=[source.pk])).status_code,
    ]

    submission.refresh_from_db()
    source.refresh_from_db()
    assert answers == [404] * 8
    assert submission.state == SubmissionState.QUARANTINED
    assert submission.corrected_fields is None
    assert source.field_mapping.get("fields") is None
    assert Lead.objects.count() == 0


def test_nav_shows_intake_with_the_review_count_to_admins_only(
    logged_in_client, provider, admin, rep
):
    _, key = provider
    _quarantined(key)
    _rejected(key)
    _post(key, json.dumps({"email": "ok@example.com"}))

    as_admin = logged_in_client(admin).get(reverse("leads:lead-list")).text
    as_rep = logged_in_client(rep).get(reverse("leads:lead-list")).text

    assert re.search(r'href="/intake/".*?<span class="nav-badge">2<', as_admin, re.S)
    assert 'href="/intake/"' not in as_rep


def test_a_rep_sees_the_original_of_their_own_lead_but_not_of_another(
    logged_in_client, provider, rep, other_rep
):
    _, key = provider
    body = json.dumps({"email": "ann@example.com", "first_name": "Ann"})
    submission = _post(key, body)
    lead = leads_services.assign_lead(submission.lead, by=SYSTEM, to=rep)
    url = reverse("intake:lead-original", args=[lead.pk])

    own = logged_in_client(rep).get(url)
    own_download = logged_in_client(rep).get(
        reverse("intake:lead-original-download", args=[lead.pk])
    )
    theirs = logged_in_client(other_rep).get(url)
    theirs_download = logged_in_client(other_rep).get(
        reverse("intake:lead-original-download", args=[lead.pk])
    )

    assert own.status_code == 200
    assert escape('"email": "ann@example.com"') in own.text
    assert reverse("intake:submission-detail", args=[submission.pk]) not in own.text
    assert own_download.content == body.encode()
    assert (theirs.status_code, theirs_download.status_code) == (404, 404)


def test_lead_page_links_to_its_original_and_a_hand_made_lead_says_it_has_none(
    logged_in_client, provider, admin
):
    source, _ = provider
    lead = make_lead(source, email="hand@example.com")
    client = logged_in_client(admin)

    lead_page = client.get(reverse("leads:lead-detail", args=[lead.pk]))
    original = client.get(reverse("intake:lead-original", args=[lead.pk]))
    download = client.get(reverse("intake:lead-original-download", args=[lead.pk]))

    assert reverse("intake:lead-original", args=[lead.pk]) in lead_page.text
    assert original.status_code == 200
    assert "This lead was entered by hand" in original.text
    assert download.status_code == 404


# --- The queue -----------------------------------------------------------------------------------


def test_queue_tabs_count_each_state_and_list_newest_first(logged_in_client, provider, admin):
    _, key = provider
    first = _quarantined(key)
    second = _quarantined(key, "<lead>")
    rejected = _rejected(key)
    _post(key, json.dumps({"email": "ok@example.com"}))
    client = logged_in_client(admin)

    default = client.get(QUEUE)
    rejected_tab = client.get(QUEUE, {"state": "rejected"})
    processed_tab = client.get(QUEUE, {"state": "processed"})

    states = ("quarantined", "rejected", "received", "processed")
    assert [_tab_count(default, s) for s in states] == [2, 1, 0, 1]
    assert _queue_ids(default) == [second.pk, first.pk]
    assert _queue_ids(rejected_tab) == [rejected.pk]
    assert escape("Give an e-mail address or a phone number.") in rejected_tab.text
    assert len(_queue_ids(processed_tab)) == 1


def test_queue_filters_by_source_and_channel(logged_in_client, provider, admin):
    _, key = provider
    other, other_key = make_source_with_key("Other")
    mine = _quarantined(key)
    theirs = _quarantined(other_key)
    client = logged_in_client(admin)

    by_source = client.get(QUEUE, {"source": other.pk})
    by_channel = client.get(QUEUE, {"channel": "http"})
    no_channel = client.get(QUEUE, {"channel": "email"})

    assert _queue_ids(by_source) == [theirs.pk]
    assert _tab_count(by_source, "quarantined") == 1
    assert _queue_ids(by_channel) == [theirs.pk, mine.pk]
    assert _queue_ids(no_channel) == []


def test_queue_pages_with_a_cursor(logged_in_client, provider, admin):
    _, key = provider
    made = [_quarantined(key) for _ in range(3)]
    page = selectors.list_submissions(admin, state="quarantined", limit=2)

    rest = selectors.list_submissions(admin, state="quarantined", limit=2, cursor=page.next_cursor)

    assert [s.pk for s in page.items] == [made[2].pk, made[1].pk]
    assert [s.pk for s in rest.items] == [made[0].pk]
    assert rest.next_cursor is None


def test_queue_page_queries_do_not_grow_with_rows(
    logged_in_client, provider, admin, django_assert_max_num_queries
):
    _, key = provider
    for _ in range(12):
        _rejected(key)
    client = logged_in_client(admin)
    client.get(QUEUE)

    # 10: the menu's badges (unread notifications, returns of sold leads to decide) among them.
    with django_assert_max_num_queries(10):
        response = client.get(QUEUE, {"state": "rejected"})

    assert len(_queue_ids(response)) == 12


# --- One submission ------------------------------------------------------------------------------


def test_detail_shows_reasons_fields_mapping_and_raw(logged_in_client, provider, admin):
    source, key = provider
    submission = _rejected(key)
    client = logged_in_client(admin)

    response = client.get(reverse("intake:submission-detail", args=[submission.pk]))

    text = response.text
    assert "no_contact" in text
    assert "Give an e-mail address or a phone number." in text
    assert '<span class="field-name" title="email">E-mail</span>' in text
    assert '<th scope="row" data-label="Label">Klantmail</th>' in text
    assert re.search(
        r">Naam</th>.*?Full name \(split into first and last\) "
        r'<code class="muted">full_name</code>',
        text,
        re.S,
    )
    assert escape('"Klantmail": "ann@example.com"') in text
    assert reverse("intake:source-mapping", args=[source.pk]) in text


def test_detail_escapes_a_script_in_the_fields_and_the_raw_body(logged_in_client, provider, admin):
    _, key = provider
    payload = {
        "Naam klant": "<script>alert(1)</script>",
        "Opmerking": "<img src=x onerror=alert(2)>",
    }
    submission = _post(key, json.dumps(payload))
    client = logged_in_client(admin)

    response = client.get(reverse("intake:submission-detail", args=[submission.pk]))

    assert submission.state == SubmissionState.REJECTED
    assert "<script>alert(1)</script>" not in response.text
    assert "<img src=x" not in response.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "&lt;img src=x onerror=alert(2)&gt;" in response.text


def test_detail_shows_every_hostile_string_escaped_and_adds_no_script(
    logged_in_client, provider, admin
):
    with open(shared_data_path("hostile", "blns.txt"), "rb") as f:
        hostile = f.read()
    _, key = provider
    plain = _quarantined(key, "not json at all")
    submission = _quarantined(key, hostile.decode("utf-8"))
    client = logged_in_client(admin)

    baseline = client.get(reverse("intake:submission-detail", args=[plain.pk])).text
    page = client.get(reverse("intake:submission-detail", args=[submission.pk])).text

    lines = [
        line for line in hostile.decode("utf-8").split("\n") if line.strip() and line[0] != "#"
    ]
    missing = [line for line in lines if escape(line) not in page]
    assert missing == []
    assert page.lower().count("<script") == baseline.lower().count("<script")
    assert "<script>alert(0)</script>" in hostile.decode()
    assert "<script>alert(0)</script>" not in page


def test_raw_body_is_read_in_its_declared_charset_and_cut_for_display(
    logged_in_client, provider, admin
):
    _, key = provider
    submission = _post(
        key,
        '{"naam": "Café", "email": "x"'.encode("cp1252"),
        "application/json; charset=windows-1252",
    )
    client = logged_in_client(admin)

    page = client.get(reverse("intake:submission-detail", args=[submission.pk])).text
    cut = selectors.read_body(submission, limit=10)

    assert '{"naam": "Café", "email": "x"' in page.replace("&quot;", '"')
    assert "read as windows-1252" in page
    assert (cut.text, cut.is_truncated, cut.size) == ('{"naam": "', True, 29)


def test_download_gives_the_exact_bytes_with_the_original_content_type(
    logged_in_client, provider, admin
):
    _, key = provider
    body = b"<html><body><script>alert(1)</script>\xff</body></html>"
    submission = _post(key, body, "text/html; charset=utf-8")
    client = logged_in_client(admin)

    response = client.get(reverse("intake:submission-download", args=[submission.pk]))

    assert response.status_code == 200
    assert response.content == body
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert (
        response["Content-Disposition"] == f'attachment; filename="submission-{submission.pk}.bin"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"


# --- Reprocess -----------------------------------------------------------------------------------


def test_reprocess_after_a_mapping_fix_turns_a_rejected_submission_into_a_lead(
    logged_in_client, provider, admin
):
    source, key = provider
    submission = _rejected(key)
    client = logged_in_client(admin)
    saved = client.post(
        reverse("intake:source-mapping", args=[source.pk]),
        {"field_label": ["Klantmail"], "field_target": ["email"]},
    )

    response = client.post(
        reverse("intake:submission-reprocess", args=[submission.pk]), follow=True
    )

    submission.refresh_from_db()
    source.refresh_from_db()
    assert saved.status_code == 302
    assert source.field_mapping["fields"] == {"Klantmail": "email"}
    assert submission.state == SubmissionState.PROCESSED
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.last_name) == ("ann@example.com", "Ann", "Smit")
    assert submission.lead_id == lead.pk
    assert f"Processed: lead #{lead.pk} (Accepted)." in response.text


def test_reprocess_without_a_fix_says_it_is_still_quarantined(logged_in_client, provider, admin):
    _, key = provider
    submission = _quarantined(key)

    response = logged_in_client(admin).post(
        reverse("intake:submission-reprocess", args=[submission.pk]), follow=True
    )

    submission.refresh_from_db()
    assert submission.state == SubmissionState.QUARANTINED
    assert submission.attempts == 2
    assert "Still quarantined:" in response.text
    assert Lead.objects.count() == 0


def test_fix_and_reprocess_with_label_value_lines(logged_in_client, provider, admin):
    _, key = provider
    submission = _quarantined(key)

    response = logged_in_client(admin).post(
        reverse("intake:submission-fix", args=[submission.pk]),
        {"fields_text": "E-mailadres: ann@example.com\nVoornaam: Ann\n\nPlaats: Utrecht"},
    )

    submission.refresh_from_db()
    assert response.status_code == 302
    assert submission.state == SubmissionState.PROCESSED
    assert submission.corrected_fields == {
        "E-mailadres": "ann@example.com",
        "Voornaam": "Ann",
        "Plaats": "Utrecht",
    }
    lead = Lead.objects.get()
    assert (lead.email, lead.first_name, lead.city) == ("ann@example.com", "Ann", "Utrecht")
    assert bytes(submission.body) == b'{"email": "broken'


def test_fix_and_reprocess_with_the_row_table(logged_in_client, provider, admin):
    _, key = provider
    submission = _rejected(key)

    logged_in_client(admin).post(
        reverse("intake:submission-fix", args=[submission.pk]),
        {"label": ["Naam klant", "email", ""], "value": ["Ann Smit", "ann@example.com", ""]},
    )

    submission.refresh_from_db()
    assert submission.state == SubmissionState.PROCESSED
    assert submission.corrected_fields == {"Naam klant": "Ann Smit", "email": "ann@example.com"}
    assert Lead.objects.get().email == "ann@example.com"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"fields_text": "email ann@example.com"}, "Line 1 has no “label: value”."),
        ({"fields_text": ""}, "Give at least one field."),
        ({"label": ["email", "email"], "value": ["a@b.nl", "c@d.nl"]}, "appears twice."),
        ({"label": ["", "x"], "value": ["orphan", "y"]}, "The value “orphan” has no label."),
    ],
)
def test_fix_errors_are_shown_in_the_form_and_nothing_is_reprocessed(
    logged_in_client, provider, admin, data, message
):
    _, key = provider
    submission = _quarantined(key)

    response = logged_in_client(admin).post(
        reverse("intake:submission-fix", args=[submission.pk]), data
    )

    submission.refresh_from_db()
    assert response.status_code == 422
    assert escape(message) in response.text
    assert submission.state == SubmissionState.QUARANTINED
    assert submission.attempts == 1
    assert submission.corrected_fields is None


def test_a_processed_submission_cannot_be_reprocessed(logged_in_client, provider, admin):
    _, key = provider
    submission = _post(key, json.dumps({"email": "ok@example.com"}))

    response = logged_in_client(admin).post(
        reverse("intake:submission-fix", args=[submission.pk]), {"fields_text": "email: b@c.nl"}
    )

    submission.refresh_from_db()
    assert response.status_code == 409
    assert (
        "Only quarantined, rejected or throttled submissions can be reprocessed." in response.text
    )
    assert submission.corrected_fields is None
    assert Lead.objects.get().email == "ok@example.com"


def test_bulk_reprocess_after_a_mapping_fix_reports_the_outcome(logged_in_client, provider, admin):
    source, key = provider
    fixed = [_rejected(key), _rejected(key, Klantmail="bob@example.com")]
    broken = _quarantined(key)
    client = logged_in_client(admin)
    client.post(
        reverse("intake:source-mapping", args=[source.pk]),
        {"field_label": ["Klantmail"], "field_target": ["email"]},
    )

    response = client.post(reverse("intake:source-reprocess-all", args=[source.pk]), follow=True)

    assert "Reprocessed 3: 2 processed, 1 quarantined, 0 rejected." in response.text
    states = dict(RawSubmission.objects.values_list("pk", "state"))
    assert states == {
        fixed[0].pk: SubmissionState.PROCESSED,
        fixed[1].pk: SubmissionState.PROCESSED,
        broken.pk: SubmissionState.QUARANTINED,
    }
    assert sorted(Lead.objects.values_list("email", flat=True)) == [
        "ann@example.com",
        "bob@example.com",
    ]


# --- Mapping editor ------------------------------------------------------------------------------


def test_mapping_editor_is_prefilled_and_suggests_seen_labels(logged_in_client, provider, admin):
    source, key = provider
    _rejected(key)
    client = logged_in_client(admin)
    client.post(
        reverse("intake:source-mapping", args=[source.pk]),
        {"field_label": ["Klantmail"], "field_target": ["email"], "const_target": ["language"],
         "const_value": ["nl"]},
    )  # fmt: skip

    page = client.get(reverse("intake:source-mapping", args=[source.pk])).text

    assert 'name="field_label" value="Klantmail"' in page
    assert '<option value="email" selected>' in page
    assert 'name="const_value" value="nl"' in page
    assert '<option value="Naam"></option>' in page  # a seen label, offered while typing
    assert re.search(r"Naam <small[^>]*>×1</small></th>.*?Full name", page, re.S)
    assert (
        reverse("intake:source-mapping", args=[source.pk])
        in client.get(reverse("leads:source-list")).text
    )


def test_mapping_validation_errors_are_shown_next_to_the_rows(logged_in_client, provider, admin):
    source, _ = provider
    before = dict(source.field_mapping)

    response = logged_in_client(admin).post(
        reverse("intake:source-mapping", args=[source.pk]),
        {
            "field_label": ["Naam", "Mail"],
            "field_target": ["bogus", "email"],
            "transform_target": ["postal_code"],
            "transform_how": ["shout"],
            "vmap_target": ["country"],
            "vmap_lines": ["Nederland=NL\nBelgië"],
        },
    )

    source.refresh_from_db()
    assert response.status_code == 422
    assert re.search(
        r'value="Naam".*?<ul class="field__errors" role="alert">'
        r"<li>Unknown target &#x27;bogus&#x27;.",
        response.text,
        re.S,
    )
    assert escape("Line 2 is not “incoming=outgoing”.") in response.text
    assert source.field_mapping == before


def test_mapping_transform_errors_come_from_the_mapping_rules(logged_in_client, provider, admin):
    source, _ = provider

    response = logged_in_client(admin).post(
        reverse("intake:source-mapping", args=[source.pk]),
        {"transform_target": ["postal_code"], "transform_how": ["shout"]},
    )

    assert response.status_code == 422
    assert "Unknown transform &#x27;shout&#x27;; use one of upper, lower" in response.text


def test_live_preview_shows_what_the_edited_mapping_makes_without_saving(
    logged_in_client, provider, admin
):
    source, key = provider
    _rejected(key)
    before = dict(source.field_mapping)
    client = logged_in_client(admin)
    url = reverse("intake:source-mapping-preview", args=[source.pk])

    mapped = client.post(
        url,
        {"field_label": ["Klantmail"], "field_target": ["email"], "const_target": ["city"],
         "const_value": ["Gouda"]},
        headers={"HX-Request": "true"},
    )  # fmt: skip
    unmapped = client.post(url, {}, headers={"HX-Request": "true"})
    invalid = client.post(url, {"field_label": ["Klantmail"], "field_target": ["nope"]})

    source.refresh_from_db()
    assert mapped.status_code == 200
    assert '<th scope="row" title="email">E-mail</th><td>ann@example.com</td>' in mapped.text
    assert '<th scope="row" title="city">City</th><td>Gouda</td>' in mapped.text
    assert "Would be refused" not in mapped.text
    assert "Extra fields" not in mapped.text
    assert "Would be refused: it lacks the contact this source asks for." in unmapped.text
    assert "Klantmail = ann@example.com" in unmapped.text
    assert "Klantmail: Unknown target &#x27;nope&#x27;." in invalid.text
    assert source.field_mapping == before
