"""One reader of lead HTML for mail bodies and feed summaries."""

import pytest

from leadloop.intake.channels import ParseError
from leadloop.intake.channels.html import MAX_TABLE_DEPTH, Pair, read_html


def test_two_cell_rows_are_pairs_and_the_rest_is_text_in_document_order():
    content = read_html(
        "<h1>New lead</h1><p>Call&nbsp;back &amp; quote</p>"
        "<table><tr><th>Field</th><th>Value</th></tr>"
        "<tr><td>Name:</td><td>Ann <b>de Vries</b></td></tr>"
        "<tr><td>Phone</td><td>06 1234 5678</td></tr>"
        "<tr><td>a</td><td>b</td><td>c</td></tr></table>"
        "<script>alert(1)</script><style>p{}</style><p>Thanks</p>"
    )

    assert content.pairs == [Pair("Name", "Ann de Vries"), Pair("Phone", "06 1234 5678")]
    assert content.lines() == [
        "New lead",
        "Call back & quote",
        "Field Value",
        "Name: Ann de Vries",
        "Phone: 06 1234 5678",
        "a b c",
        "Thanks",
    ]
    assert "alert" not in content.text
    assert "Field\nValue" in content.text
    assert "Ann" not in content.text


def test_rows_without_end_tags_and_layout_tables_around_the_real_one():
    content = read_html(
        "<table><tr><td><table><tr><td>E-mail<td>ann@example.com<tr><td>City<td>Delft"
        "</table></td><td>sidebar</td></tr></table>"
    )

    assert content.pairs == [Pair("E-mail", "ann@example.com"), Pair("City", "Delft")]
    assert "sidebar" in content.text


class Refused(ParseError):
    pass


def test_too_deep_tables_are_refused_with_the_callers_error():
    with pytest.raises(Refused):
        read_html("<table><tr><td>" * (MAX_TABLE_DEPTH + 1), error=Refused)


def test_too_many_cells_are_refused(monkeypatch):
    from leadloop.intake.channels import html

    monkeypatch.setattr(html, "MAX_TABLE_CELLS", 10)
    with pytest.raises(ParseError):
        read_html("<table>" + "<tr><td>a</td><td>b</td></tr>" * 6 + "</table>")


def test_hostile_markup_is_only_text():
    content = read_html('<img src=x onerror="alert(1)"><a href="javascript:x">click</a><!-- c -->')

    assert content.lines() == ["click"]
