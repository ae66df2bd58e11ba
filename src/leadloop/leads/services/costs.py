"""What marketing spends: a campaign's costs (on a day or over a period, entered or imported
from CSV) and the price a purchased source charges per lead. Analytics reads them for cost per
lead, cost per order and ROI."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Campaign, CostEntry, Source
from leadloop.leads.services.sources import audit_source
from leadloop.leads.services.validation import clean_text

MAX_AMOUNT = Decimal("999999999999.99")
MAX_IMPORT_BYTES = 2 * 1024 * 1024
MAX_IMPORT_ROWS = 10_000
_CURRENCY = re.compile(r"[A-Z]{3}")


def _amount(value: Any, field: str, errors: dict[str, list[str]]) -> Decimal | None:
    text = str(value).strip().replace(" ", "").replace("€", "")
    if "," in text and "." in text:  # 1.234,56 or 1,234.56: the last mark is the decimal one
        text = (
            text.replace(".", "").replace(",", ".")
            if text.rfind(",") > text.rfind(".")
            else (text.replace(",", ""))
        )
    else:
        text = text.replace(",", ".")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors[field] = [_("Not an amount.")]
        return None
    if not amount.is_finite() or amount < 0:
        errors[field] = [_("Cannot be negative.")]
        return None
    if amount > MAX_AMOUNT:
        errors[field] = [_("Too large.")]
        return None
    return amount.quantize(Decimal("0.01"))


def _currency(value: str, default: str, errors: dict[str, list[str]]) -> str:
    code = (value or default).strip().upper()
    if not _CURRENCY.fullmatch(code):
        errors["currency"] = [_("A three-letter currency code, such as EUR.")]
    return code


def _checked_cost(
    campaign: Campaign,
    *,
    incurred_on: dt.date,
    amount: Any,
    until_on: dt.date | None,
    currency: str,
    note: str,
) -> CostEntry:
    errors: dict[str, list[str]] = {}
    value = _amount(amount, "amount", errors)
    code = _currency(currency, campaign.currency, errors)
    if until_on is not None and until_on < incurred_on:
        errors["until_on"] = [_("Ends before it starts.")]
    elif until_on is not None and (until_on - incurred_on).days > 366:
        errors["until_on"] = [_("A cost can cover at most a year.")]
    if errors or value is None:
        raise ValidationFailed(_("The cost is not valid."), errors=errors)
    return CostEntry(
        campaign=campaign,
        incurred_on=incurred_on,
        until_on=until_on if until_on != incurred_on else None,
        amount=value,
        currency=code,
        note=clean_text(note)[:255],
    )


def add_campaign_cost(
    campaign: Campaign,
    *,
    incurred_on: dt.date,
    amount: Any,
    by: Actor,
    note: str = "",
    until_on: dt.date | None = None,
    currency: str = "",
) -> CostEntry:
    """Record money spent on a campaign on a day, or over the days up to `until_on`; in the
    campaign's currency unless another is named."""
    require(by, Permission.CONFIGURE_SOURCES)
    entry = _checked_cost(
        campaign,
        incurred_on=incurred_on,
        amount=amount,
        until_on=until_on,
        currency=currency,
        note=note,
    )
    entry.save()
    return entry


def set_source_cost(
    source: Source, *, cost_per_lead: Any, by: Actor, currency: str = "EUR"
) -> Source:
    """Set what a purchased source charges per lead (None: it is not paid per lead)."""
    require(by, Permission.CONFIGURE_SOURCES)
    errors: dict[str, list[str]] = {}
    price = None
    if cost_per_lead not in (None, ""):
        price = _amount(cost_per_lead, "cost_per_lead", errors)
    code = _currency(currency, "EUR", errors)
    if errors:
        raise ValidationFailed(_("The price is not valid."), errors=errors)
    source.cost_per_lead, source.cost_currency = price, code
    source.save(update_fields=["cost_per_lead", "cost_currency"])
    audit_source(source, by=by, change="cost_per_lead", cost_per_lead=str(price), currency=code)
    return source


@dataclass(frozen=True)
class CostImport:
    created: int
    amount_by_currency: dict[str, Decimal]


def _date(value: str, field: str, errors: dict[str, list[str]]) -> dt.date | None:
    text = (value or "").strip()
    for pattern in ("%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    errors[field] = [_("A date such as 2026-11-30.")]
    return None


@transaction.atomic
def import_campaign_costs(data: bytes, *, by: Actor) -> CostImport:
    """Costs from a CSV file with the columns `campaign` (its name or id), `date` (or `from`),
    optional `until`, `amount`, optional `currency`, `source` (when two sources have a campaign
    of that name) and `note`. All or nothing: one bad row refuses the file, naming every bad row
    (up to 20)."""
    require(by, Permission.CONFIGURE_SOURCES)
    if len(data) > MAX_IMPORT_BYTES:
        raise ValidationFailed(
            _("The file is larger than 2 MB."), errors={"file": [_("At most 2 MB.")]}
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    first = text.split("\n", 1)[0]
    dialect = ";" if first.count(";") > first.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=dialect)
    names = {(n or "").strip().lower() for n in reader.fieldnames or []}
    missing = [n for n in ("campaign", "amount") if n not in names]
    if "date" not in names and "from" not in names:
        missing.append("date")
    if missing:
        raise ValidationFailed(
            _("The file has no column %(columns)s.") % {"columns": ", ".join(missing)},
            errors={"file": [_("Columns: campaign, date, until, amount, currency, source, note.")]},
        )
    campaigns = list(Campaign.objects.select_related("source"))
    entries: list[CostEntry] = []
    problems: dict[str, list[str]] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_IMPORT_ROWS:
            problems["file"] = [_("At most %(n)d rows.") % {"n": MAX_IMPORT_ROWS}]
            break
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        if not any(row.values()):
            continue
        errors: dict[str, list[str]] = {}
        campaign = _find_campaign(campaigns, row.get("campaign", ""), row.get("source", ""))
        start = _date(row.get("date") or row.get("from", ""), "date", errors)
        until = _date(row["until"], "until", errors) if row.get("until") else None
        if campaign is None:
            errors["campaign"] = [_("No such campaign (or two sources have one of that name).")]
        if not errors and campaign is not None and start is not None:
            try:
                entries.append(
                    _checked_cost(
                        campaign,
                        incurred_on=start,
                        amount=row.get("amount", ""),
                        until_on=until,
                        currency=row.get("currency", ""),
                        note=row.get("note", ""),
                    )
                )
            except ValidationFailed as exc:
                errors.update(exc.errors)
        for field, messages in errors.items():
            if len(problems) < 20:
                problems[f"row {number}: {field}"] = messages
    if problems:
        raise ValidationFailed(_("The file was not imported: fix these rows."), errors=problems)
    CostEntry.objects.bulk_create(entries, batch_size=1000)
    totals: dict[str, Decimal] = {}
    for entry in entries:
        totals[entry.currency] = totals.get(entry.currency, Decimal("0")) + entry.amount
    return CostImport(created=len(entries), amount_by_currency=totals)


def _find_campaign(campaigns: list[Campaign], name: str, source: str) -> Campaign | None:
    if name.isdigit():
        return next((c for c in campaigns if c.pk == int(name)), None)
    found = [
        c
        for c in campaigns
        if c.name.casefold() == name.casefold()
        and (not source or c.source.name.casefold() == source.casefold())
    ]
    return found[0] if len(found) == 1 else None
