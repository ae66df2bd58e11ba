"""Every page carries the Content-Security-Policy and holds nothing inline it would block.

The pages are found by walking the URL patterns as an admin, with one row of each kind made
through the real services, so a new page is checked without anyone adding it here.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from leadloop.accounts.actors import SYSTEM
from leadloop.assessment.models import DuplicatePair
from leadloop.assessment.scoring import services as assessment_config
from leadloop.core import csp
from leadloop.intake import services as intake
from leadloop.intake.models import RawSubmission
from leadloop.intake.web_forms import services as web_forms
from leadloop.intake.web_forms.models import LeadForm
from leadloop.leads.models import ChannelKind
from tests.factories.leads import make_lead, make_organization, make_source, make_source_with_key

STRICT = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'"
)
FORM_PAGE = STRICT.replace("frame-ancestors 'none'", "frame-ancestors *")
EXCEPTIONS = {
    # Customers' sites embed the public form; the builder frames its preview.
    "intake:form-hosted": FORM_PAGE,
    "intake:form-thanks": FORM_PAGE,
    "intake:form-preview": STRICT.replace("frame-ancestors 'none'", "frame-ancestors 'self'"),
    # A sender's original bytes: stricter still, should a browser ever render them.
    "intake:submission-download": "default-src 'none'; sandbox",
    "intake:lead-original-download": "default-src 'none'; sandbox",
}


class _Inline(HTMLParser):
    """Collects what a strict policy would block: inline script and style, handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = dict(attrs)
        if tag == "script" and "src" not in names and names.get("type") != "application/json":
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        for name, value in attrs:
            if name == "style" or name.startswith("on"):
                self.found.append(f"{name}= on <{tag}>")
            if name in {"href", "src", "action"} and (value or "").lower().startswith(
                "javascript:"
            ):
                self.found.append(f"{name}=javascript: on <{tag}>")


def _inline_in(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.found


@pytest.fixture
def world(admin):
    """One row of each kind a page needs, made through the services."""
    source, key = make_source_with_key("Provider")
    Client().generic("POST", f"/in/{key}", '{"email": "broken', content_type="application/json")
    holding = make_organization("Holding")
    branch = make_organization("Branch", parent=holding)
    make_organization("Shop", parent=branch)
    make_lead(source, email="ann@example.com", organization_id=holding.pk)
    web = make_source("Website forms", kind=ChannelKind.WEB_FORM)
    form = web_forms.create_form(
        source=web,
        by=SYSTEM,
        title="Request a demo",
        slug="demo",
        consent_text="Yes.",
        consent_version="2026-03",
    )
    web_forms.add_field(form, by=SYSTEM, label="Team size", target="extra:team_size")
    rule = assessment_config.create_grading_rule(
        by=admin, field="job_title", operator="contains", value="director", points=15
    )
    assessment_config.set_source_policy(
        web, by=SYSTEM, fraud_review_at=40, fraud_reject_at=80, on_duplicate="review"
    )
    for city in ("", "Ede"):
        body = json.dumps({"first_name": "Bo", "last_name": "Smit", "email": "bo@smit.example"})
        if city:
            body = body[:-1] + f', "city": "{city}"}}'
        submission = intake.receive(
            source=web, channel="http", body=body.encode(), content_type="application/json"
        )
        received = intake.process_submission(submission.pk)
    return {
        # A lead that came in as a submission, so that its original can be opened.
        "lead_id": received.lead_id,
        "org_id": holding.pk,
        "source_id": source.pk,
        "submission_id": RawSubmission.objects.filter(source=source).get().pk,
        "form_id": form.pk,
        "field_id": form.fields.first().pk,
        "slug": form.slug,
        "rule_id": rule.pk,
        "pair_id": DuplicatePair.objects.get().pk,
        "fmt": "csv",
    }


def _page_urls(ids: dict[str, object]) -> dict[str, str]:
    """Every named page outside the JSON API whose arguments the world can fill."""
    urls: dict[str, str] = {}

    def walk(resolver: URLResolver, namespace: str | None) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and pattern.name:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                args = pattern.pattern.regex.groupindex
                if name.startswith("api:") and name != "api:openapi-view":
                    continue
                if all(arg in ids for arg in args):
                    urls[name] = reverse(name, kwargs={arg: ids[arg] for arg in args})

    walk(get_resolver(), None)
    return urls


def test_every_page_carries_the_policy_and_nothing_inline(logged_in_client, admin, world):
    client = logged_in_client(admin)
    checked = []

    for name, url in sorted(_page_urls(world).items()):
        response = client.get(url)
        expected = EXCEPTIONS.get(name, STRICT)
        assert response["Content-Security-Policy"] == expected, name
        if response.get("Content-Type", "").startswith("text/html"):
            assert _inline_in(response.content.decode()) == [], name
            if response.status_code == 200:
                checked.append(name)

    assert {
        "leads:lead-list",
        "leads:lead-detail",
        "leads:lead-edit",
        "leads:organization-detail",
        "intake:submission-list",
        "intake:submission-detail",
        "intake:source-mapping",
        "intake:form-edit",
        "intake:form-preview",
        "intake:form-hosted",
        "intake:form-thanks",
        "assessment:config",
        "assessment:config-grading-rule",
        "assessment:duplicate-list",
        "assessment:duplicate-detail",
        "api:openapi-view",
        "web:login",
    } <= set(checked)


def test_the_login_page_and_a_404_carry_the_policy(client, db):
    login = client.get(reverse("web:login"))
    missing = client.get("/no-such-page/")

    assert login["Content-Security-Policy"] == STRICT
    assert missing.status_code == 404
    assert missing["Content-Security-Policy"] == STRICT
    assert login["X-Frame-Options"] == "DENY"
    assert login["Cross-Origin-Opener-Policy"] == "same-origin"
    assert login["Referrer-Policy"] == "same-origin"


def test_the_public_form_allows_the_sites_the_operator_names(client, settings, world):
    settings.LEADLOOP_FORM_FRAME_ANCESTORS = ["https://www.example.com", "https://shop.example.com"]

    response = client.get(reverse("intake:form-hosted", args=["demo"]))

    assert response["Content-Security-Policy"] == STRICT.replace(
        "frame-ancestors 'none'", "frame-ancestors https://www.example.com https://shop.example.com"
    )
    assert "X-Frame-Options" not in response


def test_a_form_with_its_own_thank_you_page_may_post_there(client, world):
    form = LeadForm.objects.get(pk=world["form_id"])
    form.redirect_url = "https://www.example.com:8443/thanks?from=form"
    form.save(update_fields=["redirect_url"])

    response = client.get(reverse("intake:form-hosted", args=["demo"]))

    assert response["Content-Security-Policy"] == FORM_PAGE.replace(
        "form-action 'self'", "form-action 'self' https://www.example.com:8443"
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example;script-src *",
        "https://evil.example script-src",
        "javascript:alert(1)",
        "https://",
        "https://evil.example:99999/",
        "ftp://files.example.com/",
    ],
)
def test_a_hostile_redirect_address_adds_no_source(url):
    assert csp.origin_of(url) is None


@pytest.mark.parametrize(
    "sources",
    [
        ["https://a.example;", "script-src", "*"],
        ["https://a.example,https://b.example"],
        ["'x' y;"],
    ],
)
def test_a_source_that_would_change_another_directive_is_refused(sources):
    with pytest.raises(csp.InvalidSource):
        csp.check_sources(sources)


def test_a_bad_frame_ancestors_setting_fails_the_system_check(settings):
    settings.LEADLOOP_FORM_FRAME_ANCESTORS = ["https://a.example;", "script-src", "*"]

    errors = csp.check_form_frame_ancestors()

    assert [error.id for error in errors] == ["leadloop.E001"]
