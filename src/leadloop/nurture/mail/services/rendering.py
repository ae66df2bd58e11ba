"""Turning a marketing template into a mail: Markdown to HTML, merge fields, tracked links, the
unsubscribe footer and pixel, a plain-text part derived from the HTML, and the size limit.

Escaping: the body is Markdown with raw HTML switched off (markdown-it-py, CommonMark), so a
`<script>` a marketer pastes is shown as text, and `javascript:` links are not links. Merge
values are filled in *after* the Markdown is rendered and are HTML-escaped, so a lead named
`<img onerror=…>` or `[x](javascript:…)` stays text. Inside a link's address only the URL fields
(`{unsubscribe_url}`, `{survey_url}`) are filled; a person's name never becomes an address.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from html.parser import HTMLParser

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.translation import gettext as _
from markdown_it import MarkdownIt

from leadloop.nurture.mail.services import tokens

# The names a template may use.
MERGE_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "company",
    "rep_name",
    "rep_email",
    "unsubscribe_url",
    "survey_url",
)
URL_FIELDS = frozenset({"unsubscribe_url", "survey_url"})
# Gmail clips a message whose HTML passes about 102 KB, hiding the rest (and the unsubscribe
# footer) behind "View entire message"; refuse before that.
MAX_HTML_BYTES = 100_000

_MARKDOWN = MarkdownIt("commonmark", {"html": False})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_FILLED = re.compile(r"\{(\w+)\}|%7B(\w+)%7D")
_HREF = re.compile(r'<a href="([^"]*)"')


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    html: str
    text: str
    links: list[str]


def unknown_fields(*texts: str, known: Iterable[str] = MERGE_FIELDS) -> list[str]:
    """Placeholders in `texts` that are not merge fields (a typo such as `{frist_name}`); `known`
    names the fields of another kind of text (a call script's)."""
    names = {m.group(1) for text in texts for m in _PLACEHOLDER.finditer(text)}
    return sorted(names - set(known))


def render_markdown(body: str, values: Mapping[str, str]) -> str:
    """`body` (Markdown, raw HTML off) as HTML with the merge `values` filled in, escaped: the
    mail's body and the telemarketing desk's script. A placeholder without a value stays as
    written; inside a link's address only the URL fields are filled."""
    return _fill_html(_MARKDOWN.render(body), values)


def absolute(path: str) -> str:
    return settings.LEADLOOP_BASE_URL + path


def unsubscribe_url(key: str) -> str:
    return absolute(reverse("nurture:mail-unsubscribe", args=[tokens.unsubscribe_token(key)]))


def _pixel_url(key: str) -> str:
    return absolute(reverse("nurture:mail-open", args=[tokens.open_token(key)]))


def _click_url(key: str, index: int) -> str:
    return absolute(reverse("nurture:mail-click", args=[tokens.click_token(key, index)]))


def _one_line(value: str) -> str:
    return " ".join(str(value).split())


def fill_subject(subject: str, values: Mapping[str, str]) -> str:
    """The subject with merge values; a header, so on one line and not HTML."""
    filled = _PLACEHOLDER.sub(lambda m: _one_line(values.get(m.group(1), m.group(0))), subject)
    return _one_line(filled)[:200]


def _fill_html(rendered: str, values: Mapping[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) is not None:
            name = match.group(1)
            return escape(_one_line(values[name])) if name in values else match.group(0)
        name = match.group(2)
        return escape(values.get(name, "")) if name in URL_FIELDS else ""

    return _FILLED.sub(replace, rendered)


def _track_links(body: str, *, key: str, unsubscribe: str) -> tuple[str, list[str]]:
    """Point every web link of the body at its click address; the real ones, by index."""
    links: list[str] = []

    def replace(match: re.Match[str]) -> str:
        target = html.unescape(match.group(1))
        if not target.lower().startswith(("http://", "https://")) or target == unsubscribe:
            return match.group(0)
        links.append(target)
        return f'<a href="{escape(_click_url(key, len(links) - 1))}"'

    return _HREF.sub(replace, body), links


def render_mail(
    *, subject: str, body: str, language: str, values: Mapping[str, str], key: str
) -> RenderedMail:
    """The mail a template makes for these merge values; `key` names the message in its links."""
    unsubscribe = unsubscribe_url(key)
    filled_values = {**values, "unsubscribe_url": unsubscribe}
    content = render_markdown(body, filled_values)
    content, links = _track_links(content, key=key, unsubscribe=unsubscribe)
    filled_subject = fill_subject(subject, filled_values)
    with translation.override(language or None):
        footer = _("You get this e-mail because you asked us to keep you informed.")
        stop = _("Unsubscribe")
    document = (
        f'<!DOCTYPE html>\n<html lang="{escape(language)}"><head><meta charset="utf-8">'
        f"<title>{escape(filled_subject)}</title></head>\n<body>\n{content}"
        f'<hr>\n<p style="font-size:12px;color:#666666">{escape(footer)} '
        f'<a href="{escape(unsubscribe)}">{escape(stop)}</a></p>\n'
        f'<img src="{escape(_pixel_url(key))}" width="1" height="1" alt="">\n</body></html>\n'
    )
    return RenderedMail(
        subject=filled_subject, html=document, text=html_to_text(document), links=links
    )


def size_errors(mail: RenderedMail) -> list[str]:
    """Why this mail is too large to send, if it is."""
    size = len(mail.html.encode())
    if size <= MAX_HTML_BYTES:
        return []
    return [
        _(
            "The mail is %(size)d KB of HTML; at most %(limit)d KB, since Gmail cuts off longer "
            "mails (and their unsubscribe link)."
        )
        % {"size": (size + 1023) // 1024, "limit": MAX_HTML_BYTES // 1000}
    ]


# --- The plain-text part -----------------------------------------------------------------------

_BLOCK = frozenset(
    {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre", "blockquote", "table", "tr"}
)
_SKIP = frozenset({"head", "script", "style", "title"})


class _TextMaker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip = 0
        self.pre = 0
        self.href: str | None = None
        self.link_text: list[str] = []

    def _newlines(self, count: int) -> None:
        """End the line, so that `count` line breaks end the text (none before any text)."""
        while self.out and not self.out[-1].strip(" "):
            self.out.pop()
        if not self.out:
            return
        self.out[-1] = self.out[-1].rstrip(" ")
        have = 0
        for piece in reversed(self.out):
            stripped = piece.rstrip("\n")
            have += len(piece) - len(stripped)
            if stripped:
                break
        self.out.append("\n" * max(0, count - have))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip += 1
        elif tag in _BLOCK:
            self._newlines(2)
        elif tag == "br":
            self.out.append("\n")
        elif tag == "hr":
            self._newlines(2)
            self.out.append("---")
            self._newlines(2)
        elif tag == "li":
            self._newlines(1)
            self.out.append("- ")
        elif tag == "a":
            self.href = dict(attrs).get("href") or ""
            self.link_text = []
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip = max(0, self.skip - 1)
        elif tag in _BLOCK:
            self._newlines(2)
        elif tag == "a" and self.href is not None:
            text = "".join(self.link_text).strip()
            href, self.href = self.href, None
            if href and href != text:
                self.out.append(f"{text} ({href})" if text else href)
            else:
                self.out.append(text)
        if tag == "pre":
            self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        text = data if self.pre else re.sub(r"\s+", " ", data)
        if not self.pre and (not self.out or self.out[-1].endswith(("\n", " "))):
            text = text.lstrip(" ")
        if self.href is not None:
            self.link_text.append(text)
        else:
            self.out.append(text)


def html_to_text(document: str) -> str:
    """A readable plain-text version of an HTML mail: paragraphs, list items, links with their
    address in brackets; no markup, scripts, styles or images."""
    maker = _TextMaker()
    maker.feed(document)
    maker.close()
    lines = [line.rstrip() for line in "".join(maker.out).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"
