"""/api/v1/selling/buyers: buyers, their logins, secret, funds, a test with a real lead, and
their monthly statement."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema, Status
from pydantic import Field

from leadloop.distribution.selling import selectors
from leadloop.distribution.selling.api.base import Strict, _actor, router
from leadloop.distribution.selling.models import Buyer
from leadloop.distribution.selling.services import batches, buyers, trying


class BuyerIn(Strict):
    name: str | None = None
    is_active: bool | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    filters: list[dict[str, Any]] | None = Field(None, description="Routing conditions.")
    price: Decimal | None = None
    price_rules: list[dict[str, Any]] | None = Field(
        None, description='[{"conditions": [...], "price": "40"}]; the first that holds.'
    )
    currency: str | None = None
    cap_hour: int | None = None
    cap_day: int | None = None
    cap_week: int | None = None
    cap_month: int | None = None
    cap_total: int | None = None
    work_days: str | None = None
    hours_from: dt.time | None = None
    hours_until: dt.time | None = None
    max_shares: int | None = None
    funding: str | None = Field(None, description="prepaid or credit")
    credit_limit: Decimal | None = None
    return_days: int | None = None
    priority: int | None = None
    weight: int | None = None
    method: str | None = Field(None, description="json, xml, form or email")
    url: str | None = None
    email_to: str | None = None
    field_map: list[list[str]] | None = None
    answer_rules: list[dict[str, str]] | None = None
    timeout_ms: int | None = None
    retries: int | None = None
    pings: bool | None = None
    ping_url: str | None = None
    ping_fields: list[str] | None = None
    bid_path: str | None = None
    ping_timeout_ms: int | None = None


class BuyerOut(Schema):
    id: int
    name: str
    is_active: bool
    price: Decimal
    currency: str
    balance: Decimal
    funding: str
    credit_limit: Decimal
    method: str
    url: str
    email_to: str
    pings: bool
    ping_url: str
    max_shares: int
    return_days: int
    caps: dict[str, int | None]
    filters: list[dict[str, Any]]
    price_rules: list[dict[str, Any]]
    field_map: list[list[str]]
    answer_rules: list[dict[str, str]]
    ping_fields: list[str]


def _buyer_out(buyer: Buyer) -> BuyerOut:
    return BuyerOut(
        id=buyer.pk,
        name=buyer.name,
        is_active=buyer.is_active,
        price=buyer.price,
        currency=buyer.currency,
        balance=buyer.balance,
        funding=buyer.funding,
        credit_limit=buyer.credit_limit,
        method=buyer.method,
        url=buyer.url,
        email_to=buyer.email_to,
        pings=buyer.pings,
        ping_url=buyer.ping_url,
        max_shares=buyer.max_shares,
        return_days=buyer.return_days,
        caps={
            f: getattr(buyer, f)
            for f in ("cap_hour", "cap_day", "cap_week", "cap_month", "cap_total")
        },
        filters=buyer.filters,
        price_rules=buyer.price_rules,
        field_map=buyer.field_map,
        answer_rules=buyer.answer_rules,
        ping_fields=buyer.ping_fields,
    )


@router.get("/buyers", response=list[BuyerOut], url_name="selling-buyers")
def list_buyers(request: HttpRequest) -> list[BuyerOut]:
    """The buyers you may see: all for marketing and admins, your own for a buyer's user."""
    return [_buyer_out(b) for b in selectors.list_buyers(_actor(request))]


@router.post("/buyers", response={201: BuyerOut}, url_name="selling-buyer-create")
def create_buyer(request: HttpRequest, payload: BuyerIn) -> Status:
    """A new buyer; 422 names each field that cannot be used (a filter on an unknown field)."""
    buyer = buyers.save_buyer(payload.model_dump(exclude_unset=True), by=_actor(request))
    return Status(201, _buyer_out(buyer))


@router.get("/buyers/{buyer_id}", response=BuyerOut, url_name="selling-buyer")
def get_buyer(request: HttpRequest, buyer_id: int) -> BuyerOut:
    return _buyer_out(selectors.get_buyer_for(_actor(request), buyer_id))


@router.patch("/buyers/{buyer_id}", response=BuyerOut, url_name="selling-buyer-change")
def change_buyer(request: HttpRequest, buyer_id: int, payload: BuyerIn) -> BuyerOut:
    actor = _actor(request)
    selectors.get_buyer_for(actor, buyer_id)
    data = payload.model_dump(exclude_unset=True)
    return _buyer_out(buyers.save_buyer(data, by=actor, buyer_id=buyer_id))


class SecretOut(Schema):
    secret: str


@router.post("/buyers/{buyer_id}/secret", response=SecretOut, url_name="selling-buyer-secret")
def rotate_secret(request: HttpRequest, buyer_id: int) -> SecretOut:
    """A new signing secret, shown once."""
    actor = _actor(request)
    selectors.get_buyer_for(actor, buyer_id)
    return SecretOut(secret=buyers.rotate_secret(buyer_id, by=actor))


class LoginIn(Strict):
    username: str


class LoginOut(Schema):
    buyer_id: int
    user_id: int
    username: str


@router.post("/buyers/{buyer_id}/logins", response={201: LoginOut}, url_name="selling-login")
def add_login(request: HttpRequest, buyer_id: int, payload: LoginIn) -> Status:
    """Let a user with the role `buyer` into this buyer's portal."""
    actor = _actor(request)
    selectors.get_buyer_for(actor, buyer_id)
    login = buyers.add_login_by_name(buyer_id, payload.username, by=actor)
    return Status(
        201, LoginOut(buyer_id=buyer_id, user_id=login.user_id, username=login.user.username)
    )


class TopUpIn(Strict):
    amount: Decimal
    note: str = ""


class EntryOut(Schema):
    at: dt.datetime
    kind: str
    amount: Decimal
    currency: str
    balance_after: Decimal
    sale_id: int | None
    note: str


@router.post("/buyers/{buyer_id}/top-up", response={201: EntryOut}, url_name="selling-top-up")
def top_up(request: HttpRequest, buyer_id: int, payload: TopUpIn) -> Status:
    actor = _actor(request)
    selectors.get_buyer_for(actor, buyer_id)
    entry = buyers.top_up(buyer_id, payload.amount, by=actor, note=payload.note)
    return Status(201, EntryOut.from_orm(entry))


class TestIn(Strict):
    lead_id: int
    send: bool = Field(False, description="Post it to the buyer, marked as a test.")


class PreviewOut(Schema):
    content_type: str
    body: str
    ping: str
    sent: bool
    outcome: str
    reason: str
    status: int | None


@router.post("/buyers/{buyer_id}/test", response=PreviewOut, url_name="selling-buyer-test")
def test_buyer(request: HttpRequest, buyer_id: int, payload: TestIn) -> PreviewOut:
    """What the buyer receives for a real lead; with `send`, posted to it as a test."""
    actor = _actor(request)
    selectors.get_buyer_for(actor, buyer_id)
    found = trying.preview(buyer_id, payload.lead_id, by=actor, send=payload.send)
    return PreviewOut(**dataclasses.asdict(found))


class StatementOut(Schema):
    buyer_id: int
    month: str
    opening: Decimal
    closing: Decimal
    bought: int
    returned: int
    spent: Decimal
    credited: Decimal
    entries: list[EntryOut]


@router.get("/buyers/{buyer_id}/statement", response=StatementOut, url_name="selling-statement")
def statement(
    request: HttpRequest, buyer_id: int, month: str | None = Query(None, description="YYYY-MM")
) -> StatementOut:
    """A buyer's month: balances, every entry and the totals (a buyer's user: its own)."""
    found = selectors.statement(_actor(request), buyer_id, month)
    return StatementOut(
        buyer_id=found.buyer.pk,
        month=found.month,
        opening=found.opening,
        closing=found.closing,
        bought=found.bought,
        returned=found.returned,
        spent=found.spent,
        credited=found.credited,
        entries=[EntryOut.from_orm(e) for e in found.entries],
    )


@router.get(
    "/buyers/{buyer_id}/statement.csv", url_name="selling-statement-csv", response={200: None}
)
def statement_csv(
    request: HttpRequest, buyer_id: int, month: str | None = Query(None, description="YYYY-MM")
) -> HttpResponse:
    found = selectors.statement(_actor(request), buyer_id, month)
    response = HttpResponse(
        selectors.statement_as_csv(found), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{found.buyer.pk}-{found.month}.csv"'
    )
    return response


class SftpIn(Strict):
    host: str = Field("", description="Empty: no daily CSV.")
    port: int = 22
    username: str = ""
    password: str | None = Field(None, description="Stored encrypted; left out: kept.")
    directory: str = "/"
    host_key: str = Field("", description="OpenSSH public key line; empty: learnt on first use.")


class SftpOut(Schema):
    host: str
    port: int | None
    username: str
    directory: str
    host_key: str
    has_password: bool


def _sftp_out(buyer: Buyer) -> SftpOut:
    found = buyer.sftp or {}
    return SftpOut(
        host=found.get("host", ""),
        port=found.get("port"),
        username=found.get("username", ""),
        directory=found.get("directory", ""),
        host_key=found.get("host_key", ""),
        has_password=bool(buyer.sftp_password_encrypted),
    )


@router.put("/buyers/{buyer_id}/sftp", response=SftpOut, url_name="selling-sftp")
def set_sftp(request: HttpRequest, buyer_id: int, payload: SftpIn) -> SftpOut:
    """The buyer's daily CSV to SFTP: where to (the password is never shown again)."""
    actor = _actor(request)
    selectors.get_buyer_for(actor, buyer_id)
    data = payload.model_dump(exclude={"password"})
    buyer = batches.configure_sftp(buyer_id, data, password=payload.password, by=actor)
    return _sftp_out(buyer)


class BatchIn(Strict):
    day: dt.date
    again: bool = False


class BatchOut(Schema):
    day: dt.date
    file_name: str
    rows: int
    tried_at: dt.datetime
    sent_at: dt.datetime | None
    error: str


@router.get("/buyers/{buyer_id}/batches", response=list[BatchOut], url_name="selling-batches")
def list_batches(request: HttpRequest, buyer_id: int) -> list[BatchOut]:
    """The daily files sent (or tried) to the buyer's SFTP server, newest first."""
    buyer = selectors.get_buyer_for(_actor(request), buyer_id)
    return [BatchOut.from_orm(b) for b in buyer.batches.all()[:90]]


@router.post("/buyers/{buyer_id}/batches", response=BatchOut, url_name="selling-batch-send")
def send_batch(request: HttpRequest, buyer_id: int, payload: BatchIn) -> BatchOut:
    """Send a day's file now (`again` sends one that went already once more)."""
    actor = _actor(request)
    selectors.get_buyer_for(actor, buyer_id)
    return BatchOut.from_orm(
        batches.send_batch(buyer_id, payload.day, by=actor, again=payload.again)
    )
