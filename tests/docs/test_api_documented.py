"""Every route in the OpenAPI schema is named in a page under docs/.

A route counts as documented when its path appears, with or without the `/api/v1` prefix, in
any docs/ page; a path parameter may be written under any name (`{id}` for `{lead_id}`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leadloop.api import api

DOCS = Path(__file__).resolve().parents[2] / "docs"
PREFIX = "/api/v1"


def _docs_text() -> str:
    return "\n".join(page.read_text(encoding="utf-8") for page in sorted(DOCS.rglob("*.md")))


def _pattern(path: str) -> re.Pattern[str]:
    parts = re.split(r"\{[^}]+\}", path.removeprefix(PREFIX))
    body = r"\{[^}/\s]+\}".join(re.escape(part) for part in parts)
    return re.compile(rf"(?<![\w/-])(?:{re.escape(PREFIX)})?{body}(?![\w/-])")


def _openapi_paths() -> list[str]:
    return sorted(api.get_openapi_schema()["paths"])


@pytest.mark.parametrize("path", _openapi_paths())
def test_every_api_route_is_named_in_the_docs(path):
    assert _pattern(path).search(_docs_text()), f"{path} is named in no page under docs/"


def test_a_route_named_nowhere_is_caught():
    text = "`GET /assessment/duplicates/{pair_id}` · `POST /sources/{id}/rotate-key`"
    assert _pattern("/api/v1/assessment/duplicates/{pair_id}").search(text)
    assert _pattern("/api/v1/sources/{source_id}/rotate-key").search(text)
    assert not _pattern("/api/v1/sources/{source_id}").search(text)
    assert not _pattern("/api/v1/assessment/duplicates").search(text)
