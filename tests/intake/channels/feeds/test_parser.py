"""Feed entries become flat label → value records; hostile and broken feeds are handled safely."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape

import pytest

from leadloop.intake.channels.feeds.parser import MAX_FEED_BYTES, FeedEntry, FeedError, parse_feed
from tests.conftest import shared_data_path

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Leads from Offerteplaza</title><link>https://example.nl</link>
<item>
  <title>Quote request: solar panels</title>
  <link>https://example.nl/leads/1001</link>
  <guid isPermaLink="false">lead-1001</guid>
  <pubDate>Mon, 02 Nov 2026 10:15:00 +0100</pubDate>
  <author>sales@example.nl (Offerteplaza)</author>
  <category domain="city">Utrecht</category>
  <category>solar</category>
  <description><![CDATA[<p>Name: Jan Jansen<br/>E-mail: jan@example.nl<br>
    Telefoon: 06 1234 5678</p><p>Details at https://example.nl/leads/1001</p>]]></description>
</item>
<item>
  <title>Second lead</title>
  <link>https://example.nl/leads/1002</link>
  <description>Naam: Piet de Vries</description>
</item>
</channel></rss>"""

ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Leads</title><id>urn:uuid:feed</id><updated>2026-11-02T09:00:00Z</updated>
  <entry>
    <title type="html">Call back &lt;b&gt;today&lt;/b&gt;</title>
    <id>urn:uuid:9f1c6c1e-0001</id>
    <link href="https://example.com/leads/a1"/>
    <published>2026-11-01T08:30:00Z</published>
    <updated>2026-11-02T09:00:00Z</updated>
    <author><name>Ann Smith</name><email>ann@example.com</email></author>
    <content type="html">&lt;table&gt;
      &lt;tr&gt;&lt;th&gt;Company:&lt;/th&gt;&lt;td&gt;Acme BV&lt;/td&gt;&lt;/tr&gt;
      &lt;tr&gt;&lt;td&gt;Phone number&lt;/td&gt;&lt;td&gt;+31 20 123 4567&lt;/td&gt;&lt;/tr&gt;
      &lt;tr&gt;&lt;td&gt;one&lt;/td&gt;&lt;td&gt;two&lt;/td&gt;&lt;td&gt;three&lt;/td&gt;&lt;/tr&gt;&lt;/table&gt;
      &lt;script&gt;document.location='https://evil.example'&lt;/script&gt;</content>
  </entry>
</feed>"""

RDF = b"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
         xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel rdf:about="https://example.org/">
    <title>Leads</title><link>https://example.org/</link><description>d</description>
  </channel>
  <item rdf:about="https://example.org/lead/7">
    <title>RDF lead</title>
    <link>https://example.org/lead/7</link>
    <dc:date>2026-11-02T12:00:00+01:00</dc:date>
    <dc:creator>Form bot</dc:creator>
    <description>First name: Els
Last name: Bakker</description>
  </item>
</rdf:RDF>"""

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _rss_with_title(title: str, description: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><guid>g</guid><title>{escape(title)}</title>"
        f"<description>{escape(description)}</description></item></channel></rss>"
    ).encode()


def test_rss_entry_yields_its_fields_and_the_labelled_lines_of_its_description():
    entries = parse_feed(RSS)

    assert entries[0] == FeedEntry(
        guid="lead-1001",
        published=datetime(2026, 11, 2, 9, 15, tzinfo=UTC),
        record={
            "_title": "Quote request: solar panels",
            "_link": "https://example.nl/leads/1001",
            "_summary": (
                "Name: Jan Jansen\nE-mail: jan@example.nl\nTelefoon: 06 1234 5678\n"
                "Details at https://example.nl/leads/1001"
            ),
            "_author": "Offerteplaza",
            "_author_email": "sales@example.nl",
            "_published": "2026-11-02T09:15:00+00:00",
            "_tags": "Utrecht, solar",
            "city": "Utrecht",
            "Name": "Jan Jansen",
            "E-mail": "jan@example.nl",
            "Telefoon": "06 1234 5678",
        },
    )
    assert len(entries) == 2


def test_an_entry_without_guid_or_date_is_identified_by_its_link():
    entries = parse_feed(RSS)

    assert entries[1] == FeedEntry(
        guid="https://example.nl/leads/1002",
        published=None,
        record={
            "_title": "Second lead",
            "_link": "https://example.nl/leads/1002",
            "_summary": "Naam: Piet de Vries",
            "Naam": "Piet de Vries",
        },
    )


def test_an_entry_without_guid_or_link_gets_a_stable_hash_of_title_and_date():
    raw = _rss_with_title("Lead without id").replace(b"<guid>g</guid>", b"")

    first = parse_feed(raw)
    again = parse_feed(raw)

    assert first[0].guid.startswith("sha256:")
    assert len(first[0].guid) == len("sha256:") + 64
    assert first[0].guid == again[0].guid
    assert parse_feed(_rss_with_title("Other").replace(b"<guid>g</guid>", b""))[0].guid != (
        first[0].guid
    )


def test_atom_entry_reads_html_title_author_and_a_two_column_table_as_plain_text():
    (entry,) = parse_feed(ATOM)

    assert entry.guid == "urn:uuid:9f1c6c1e-0001"
    assert entry.published == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    assert entry.record == {
        "_title": "Call back today",
        "_link": "https://example.com/leads/a1",
        "_summary": "Company: Acme BV\nPhone number: +31 20 123 4567\none two three",
        "_author": "Ann Smith",
        "_author_email": "ann@example.com",
        "_published": "2026-11-01T08:30:00+00:00",
        "Company": "Acme BV",
        "Phone number": "+31 20 123 4567",
    }


def test_rdf_item_yields_its_fields_and_labels():
    (entry,) = parse_feed(RDF)

    assert entry.guid == "https://example.org/lead/7"
    assert entry.published == datetime(2026, 11, 2, 11, 0, tzinfo=UTC)
    assert entry.record == {
        "_title": "RDF lead",
        "_link": "https://example.org/lead/7",
        "_summary": "First name: Els\nLast name: Bakker",
        "_author": "Form bot",
        "_published": "2026-11-02T11:00:00+00:00",
        "First name": "Els",
        "Last name": "Bakker",
    }


def test_label_aliases_rename_labels_from_the_body():
    rules = {"label_aliases": {"naam klant": "Name", "TEL.": "Phone"}}
    raw = _rss_with_title("x", "<p>Naam klant: Jan</p><p>Tel.: 0612345678</p><p>Plaats: Ede</p>")

    (entry,) = parse_feed(raw, rules=rules)

    assert {k: entry.record[k] for k in ("Name", "Phone", "Plaats")} == {
        "Name": "Jan",
        "Phone": "0612345678",
        "Plaats": "Ede",
    }
    assert "Naam klant" not in entry.record


def test_an_empty_feed_has_no_entries():
    raw = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'

    assert parse_feed(raw) == []


def test_a_truncated_feed_yields_only_the_entries_that_were_complete():
    raw = (
        b'<rss version="2.0"><channel><item><guid>a-1</guid><title>Kept</title></item>'
        b"<item><guid>a-2</guid><title>Cut off</title><description>Name: Ja"
    )

    entries = parse_feed(raw)

    assert [(e.guid, e.record.get("_title")) for e in entries] == [("a-1", "Kept")]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"<rss><channel", r"^The feed is malformed: <unknown>:\d+:\d+: unclosed token$"),
        (b"not a feed at all", r"^The feed is malformed: "),
        (b"<html><body><p>Hello</p></body></html>", r"^The document is not an RSS, Atom or RDF"),
        (b"", r"^The document is not an RSS, Atom or RDF feed\.$"),
    ],
)
def test_a_document_without_entries_that_is_not_a_feed_is_a_feed_error(raw, message):
    with pytest.raises(FeedError, match=message):
        parse_feed(raw)


def test_entity_expansion_is_refused_before_anything_expands(monkeypatch):
    lol = "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    raw = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{lol}]>'
        '<rss version="2.0"><channel><title>t</title><item><title>&lol9;</title></item>'
        "</channel></rss>"
    ).encode()
    parsed: list[bytes] = []
    monkeypatch.setattr(
        "leadloop.intake.channels.feeds.parser.feedparser.parse",
        lambda stream, **kwargs: parsed.append(stream.read()),
    )

    with pytest.raises(FeedError, match=r"^The feed declares XML entities"):
        parse_feed(raw)

    # Refused on the declaration: the XML parser, which would expand, never saw the document.
    assert parsed == []


def test_a_feed_over_ten_megabytes_is_refused_unparsed():
    item = b"<item><title>x</title><description>" + b"y" * 1000 + b"</description></item>"
    raw = b'<rss version="2.0"><channel>' + item * (11 * 1024) + b"</channel></rss>"

    with pytest.raises(FeedError, match=r"^The feed is 11\d{6} bytes, more than the limit"):
        parse_feed(raw)

    assert len(raw) > MAX_FEED_BYTES


def test_bytes_that_name_a_local_file_are_never_opened_as_a_file(tmp_path):
    secret = tmp_path / "secret.xml"
    secret.write_bytes(_rss_with_title("from disk"))

    with pytest.raises(FeedError):
        parse_feed(str(secret).encode())


def test_control_characters_are_removed_from_values():
    raw = _rss_with_title("Ann\x7f Smith", "Name: Ann\x7f Smith")

    (entry,) = parse_feed(raw)

    assert entry.record["_title"] == "Ann Smith"
    assert entry.record["Name"] == "Ann Smith"


def _naughty_strings() -> list[str]:
    with open(shared_data_path("hostile", "blns.txt"), encoding="utf-8") as handle:
        lines = [line.rstrip("\n") for line in handle]
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_every_naughty_string_yields_one_entry_of_inert_text():
    strings = _naughty_strings()
    exact = 0

    for text in strings:
        (entry,) = parse_feed(_rss_with_title(text, f"Name: {text}"))

        assert entry.guid == "g"
        for label, value in entry.record.items():
            assert isinstance(value, str)
            assert not _CONTROL.search(label + value), (text, label, value)
        plain = text.strip()
        # Markup and entities are feedparser's to sanitise; plain text must survive unchanged.
        if plain == text and not re.search(r"[<>&\x00-\x1f\x7f-\x9f\ufffe\uffff]", text):
            assert entry.record["_title"] == text
            exact += 1

    assert len(strings) == 515
    assert exact == 274


def test_an_alias_can_turn_the_entry_author_address_into_the_lead_email():
    (entry,) = parse_feed(ATOM, rules={"label_aliases": {"_author_email": "email"}})

    assert entry.record["email"] == "ann@example.com"
    assert "_author_email" not in entry.record
