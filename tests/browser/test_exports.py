"""Exports as a Dutch and an English user download them: the file opens in their Excel."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from leadloop.accounts.models import Role
from tests.factories.accounts import make_user
from tests.factories.leads import make_lead, make_source

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _download(page, link_name: str) -> str:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).click()
    return Path(info.value.path()).read_bytes().decode("utf-8")


@pytest.mark.parametrize(
    ("language", "menu", "default_delimiter", "other_link", "other_delimiter", "first_name"),
    [
        ("nl", "CSV-scheidingsteken", ";", "CSV, gescheiden door komma's (Engelstalige Excel)",
         ",", "Voornaam"),
        ("en", "CSV separator", ",", "CSV, semicolon-separated (Excel in Dutch)", ";",
         "First name"),
    ],
)  # fmt: skip
def test_csv_export_uses_the_users_excel_delimiter_and_offers_the_others(
    page, live_server, log_in, language, menu, default_delimiter, other_link, other_delimiter,
    first_name,
):  # fmt: skip
    make_user(Role.ADMIN, username="anna", language=language)
    make_lead(make_source("Website"), first_name="Fenna", phone="06 1234 5678")
    log_in(page, "anna")
    page.goto(f"{live_server.url}/leads/")  # login lands on the start page

    default = _download(page, "Export CSV" if language == "en" else "CSV exporteren")
    page.get_by_text(menu, exact=True).click()
    other = _download(page, other_link)

    assert default.startswith("\ufeff")
    for body, delimiter in ((default, default_delimiter), (other, other_delimiter)):
        rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff")), delimiter=delimiter))
        header, row = rows[0], rows[1]
        assert header[1] == first_name
        assert row[1] == "Fenna"
        assert "+31612345678" in row
