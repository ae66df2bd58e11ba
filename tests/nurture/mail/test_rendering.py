"""Templates become mails: Markdown to HTML, escaped merge values, a plain-text part, tracked
links and the size limit; unknown merge fields are refused."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from leadloop.errors import ValidationFailed
from leadloop.nurture.mail import services as mail
from leadloop.nurture.mail.services import rendering
from tests.conftest import shared_data_path

pytestmark = pytest.mark.django_db
XSS = '<img src=x onerror="alert(1)">'


def _values(**overrides: str) -> dict[str, str]:
    return {
        "first_name": "Ann",
        "last_name": "Smit",
        "full_name": "Ann Smit",
        "company": "Smit",
        "rep_name": "Noor",
        "rep_email": "noor@acme.example",
        "survey_url": "",
        **overrides,
    }


def test_the_plain_text_part_keeps_paragraphs_lists_and_link_addresses():
    document = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<h1>Hello</h1><p>One   line<br>two &amp; three</p>"
        '<ul><li>first</li><li>second</li></ul><p>See <a href="https://a.example/x">the offer</a>.'
        "</p><script>alert(1)</script><img src='p.gif' alt=''></body></html>"
    )

    text = rendering.html_to_text(document)

    assert text == (
        "Hello\n\nOne line\ntwo & three\n\n- first\n- second\n\n"
        "See the offer (https://a.example/x).\n"
    )


def test_merge_values_are_escaped_and_never_become_links_or_markup():
    body = "Hi {first_name}, [stop]({unsubscribe_url}) [me]({first_name}) <b>raw</b>"

    result = rendering.render_mail(
        subject="Hi {first_name}",
        body=body,
        language="en",
        values=_values(first_name=f"{XSS}[x](javascript:alert(1))"),
        key="k1",
    )

    assert XSS not in result.html
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in result.html
    assert "javascript:" not in result.html.replace("[x](javascript:alert(1))", "")
    assert '<a href="">me</a>' in result.html
    assert "&lt;b&gt;raw&lt;/b&gt;" in result.html
    assert result.subject == f"Hi {XSS}[x](javascript:alert(1))"
    assert result.links == []


def test_web_links_are_tracked_and_the_real_addresses_kept_by_index():
    body = "[a](https://a.example/?q=1&r=2) [b](http://b.example) [m](mailto:x@y.example)"

    result = rendering.render_mail(
        subject="S", body=body, language="en", values=_values(), key="k2"
    )

    assert result.links == ["https://a.example/?q=1&r=2", "http://b.example"]
    assert "https://a.example" not in result.html
    assert result.html.count("/nurture/mail/c/") == 2
    assert 'href="mailto:x@y.example"' in result.html
    assert "/nurture/mail/u/" in result.html
    assert "/nurture/mail/o/" in result.html


def test_a_template_with_an_unknown_merge_field_is_refused(marketing):
    with pytest.raises(ValidationFailed) as refused:
        mail.create_template(
            by=marketing, name="X", language="en", subject="Hi {frist_name}", body="Hello"
        )

    assert "{frist_name}" in refused.value.errors["subject"][0]


def test_a_template_whose_mail_passes_100_kb_is_refused_with_the_reason(marketing):
    body = "- item\n" * 12_000  # 84,000 characters of text, about 190 KB of HTML

    with pytest.raises(ValidationFailed) as refused:
        mail.create_template(by=marketing, name="Long", language="en", subject="S", body=body)

    [message] = refused.value.errors["body"]
    assert "at most 100 KB" in message
    assert "Gmail" in message


def _naughty() -> list[str]:
    with open(shared_data_path("hostile", "blns.json"), encoding="utf-8") as handle:
        return [s for s in json.load(handle) if "<" in s or "&" in s or '"' in s]


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(name for name, _value in attrs)))


def _markup(document: str) -> list[tuple[str, tuple[str, ...]]]:
    parser = _Tags()
    parser.feed(document)
    return parser.tags


def test_every_naughty_string_stays_text_in_the_html_part():
    expected = _markup(
        rendering.render_mail(
            subject="S",
            body="Hi {first_name} at {company}",
            language="en",
            values=_values(),
            key="k3",
        ).html
    )

    for text in _naughty():
        result = rendering.render_mail(
            subject="S",
            body="Hi {first_name} at {company}",
            language="en",
            values=_values(first_name=text, company=text),
            key="k3",
        )

        assert _markup(result.html) == expected, text
