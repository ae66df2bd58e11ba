"""Setting up buyers: their filters, prices, caps, delivery and answer rules, checked at save
(a filter on a field that does not exist is refused), their secret, logins and funds."""

from __future__ import annotations

import datetime as dt
import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import actor_label
from leadloop.accounts.models import Role, User
from leadloop.accounts.permissions import Permission, require
from leadloop.core import prepared
from leadloop.core.secrets import encrypt
from leadloop.distribution import conditions
from leadloop.distribution.selling import formats
from leadloop.distribution.selling.models import Buyer, BuyerLogin, EntryKind, LedgerEntry
from leadloop.distribution.selling.services import market
from leadloop.errors import NotFound, ValidationFailed

MONEY = Decimal("0.01")
MAX_PRICE = Decimal("100000")
TEXT_FIELDS = ("name", "contact_name", "contact_email", "contact_phone", "url", "email_to")
NUMBER_FIELDS = (
    "cap_hour",
    "cap_day",
    "cap_week",
    "cap_month",
    "cap_total",
    "max_shares",
    "return_days",
    "priority",
    "weight",
    "timeout_ms",
    "retries",
    "ping_timeout_ms",
)
LIMITS = {
    "max_shares": (1, 20),
    "return_days": (0, 365),
    "priority": (-1000, 1000),
    "weight": (1, 1000),
    "timeout_ms": (100, 60000),
    "retries": (0, 5),
    "ping_timeout_ms": (50, 10000),
}


def money(value: Any, *, field: str, allow_negative: bool = False) -> Decimal:
    try:
        amount = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation as exc:
        raise ValidationFailed(
            _("Check the buyer."), errors={field: [_("This is not an amount.")]}
        ) from exc
    if (
        not amount.is_finite()
        or abs(amount) > MAX_PRICE * 100
        or (amount < 0 and not allow_negative)
    ):
        raise ValidationFailed(_("Check the buyer."), errors={field: [_("Not a usable amount.")]})
    return amount.quantize(MONEY)


def clean_price_rules(rules: Any) -> list[dict[str, Any]]:
    """[{"conditions": [...], "price": "40.00"}], each condition checked as routing checks it."""
    if rules in (None, "", []):
        return []
    if not isinstance(rules, list) or len(rules) > 50:
        raise conditions.ConditionError(_("Price rules are a list of at most 50."))
    cleaned = []
    for rule in rules:
        if not isinstance(rule, dict):
            raise conditions.ConditionError(_("A price rule has conditions and a price."))
        found = [conditions.clean(c) for c in rule.get("conditions") or []]
        if not found:
            raise conditions.ConditionError(_("A price rule needs at least one condition."))
        price = money(rule.get("price"), field="price_rules")
        cleaned.append({"conditions": found, "price": str(price)})
    return cleaned


def parse_price_rules(text: str) -> list[dict[str, Any]]:
    """Typed one a line: `40 if grade = A` or `55 if grade = A; country = NL`."""
    rules = []
    for line in text.splitlines():
        if not line.strip():
            continue
        price, sep, rest = line.partition(" if ")
        if not sep:
            raise conditions.ConditionError(
                _("“%(line)s” is not “PRICE if CONDITION”.") % {"line": line[:80]}
            )
        rules.append(
            {
                "conditions": [conditions.parse_line(c) for c in rest.split(";") if c.strip()],
                "price": price.strip(),
            }
        )
    return clean_price_rules(rules)


def price_rules_as_text(rules: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{rule['price']} if " + "; ".join(conditions.as_text(c) for c in rule["conditions"])
        for rule in rules
    )


def _clean(data: dict[str, Any], buyer: Buyer) -> Buyer:
    errors: dict[str, list[str]] = {}

    def check(field: str, clean: Any) -> None:
        if field not in data:
            return
        try:
            setattr(buyer, field, clean(data[field]))
        except (conditions.ConditionError, formats.FormatError) as exc:
            errors.setdefault(field, []).append(str(exc))
        except ValidationFailed as exc:
            found = [message for messages in exc.errors.values() for message in messages]
            errors.setdefault(field, []).extend(found or [exc.detail])

    for field in TEXT_FIELDS:
        if field in data:
            setattr(buyer, field, str(data[field] or "").strip()[:500])
    for field in NUMBER_FIELDS:
        if field not in data:
            continue
        raw = data[field]
        if raw in (None, "") and field.startswith("cap_"):
            setattr(buyer, field, None)
            continue
        try:
            number = int(raw)
        except (TypeError, ValueError):
            errors.setdefault(field, []).append(_("This is not a whole number."))
            continue
        low, high = LIMITS.get(field, (0, 10**9))
        if not low <= number <= high:
            errors.setdefault(field, []).append(
                _("Between %(low)d and %(high)d.") % {"low": low, "high": high}
            )
            continue
        setattr(buyer, field, number)
    for field in ("is_active", "pings"):
        if field in data:
            setattr(buyer, field, bool(data[field]))
    if "method" in data:
        if data["method"] not in ("json", "xml", "form", "email"):
            errors.setdefault("method", []).append(_("Not a delivery method."))
        else:
            buyer.method = data["method"]
    if "funding" in data:
        if data["funding"] not in ("prepaid", "credit"):
            errors.setdefault("funding", []).append(_("Prepaid or credit."))
        else:
            buyer.funding = data["funding"]
    if "currency" in data:
        buyer.currency = str(data["currency"] or "EUR").upper()[:3]
    if "work_days" in data:
        days = "".join(sorted(set(str(data["work_days"] or "")))) or "1234567"
        if not set(days) <= set("1234567"):
            errors.setdefault("work_days", []).append(_("Days are digits 1 (Monday) to 7."))
        else:
            buyer.work_days = days
    for field in ("hours_from", "hours_until"):
        if field in data:
            value = data[field]
            if value in (None, ""):
                setattr(buyer, field, None)
            elif isinstance(value, dt.time):
                setattr(buyer, field, value)
            else:
                try:
                    setattr(buyer, field, dt.time.fromisoformat(str(value)))
                except ValueError:
                    errors.setdefault(field, []).append(_("A time like 09:00."))
    check("price", lambda v: money(v, field="price"))
    check("credit_limit", lambda v: money(v, field="credit_limit"))
    check("filters", lambda v: [conditions.clean(c) for c in (v or [])])
    check("price_rules", clean_price_rules)
    check("field_map", formats.clean_map)
    check("answer_rules", formats.clean_rules)
    check("ping_fields", formats.clean_ping_fields)
    if "bid_path" in data:
        buyer.bid_path = str(data["bid_path"] or "price").strip()[:100]
    if not buyer.name:
        errors.setdefault("name", []).append(_("A buyer needs a name."))
    if buyer.method == "email" and not buyer.email_to:
        errors.setdefault("email_to", []).append(_("Where should the leads be mailed?"))
    if buyer.method != "email" and not buyer.url.startswith(("http://", "https://")):
        errors.setdefault("url", []).append(_("An http or https address to post the leads to."))
    if buyer.pings and not buyer.ping_url.startswith(("http://", "https://")):
        errors.setdefault("ping_url", []).append(_("A buyer that bids needs a ping address."))
    if Buyer.objects.filter(name__iexact=buyer.name).exclude(pk=buyer.pk).exists() and buyer.name:
        errors.setdefault("name", []).append(_("There is a buyer by this name already."))
    if errors:
        raise ValidationFailed(_("Check the buyer."), errors=errors)
    return buyer


def save_buyer(data: dict[str, Any], *, by: Actor, buyer_id: int | None = None) -> Buyer:
    """Create a buyer (`buyer_id` None) or change one; ValidationFailed names each bad field."""
    require(by, Permission.MANAGE_BUYERS)
    if "ping_url" in data:
        data = {**data, "ping_url": str(data["ping_url"] or "").strip()[:500]}
    with transaction.atomic():
        if buyer_id is None:
            buyer = Buyer(price=Decimal("0"))
            buyer.secret_encrypted = encrypt(new_secret())
        else:
            found = Buyer.objects.select_for_update().filter(pk=buyer_id).first()
            if found is None:
                raise NotFound(_("No such buyer."))
            buyer = found
        if "ping_url" in data:
            buyer.ping_url = data["ping_url"]
        _clean(data, buyer).save()
        _forget_definitions()
    return buyer


def _forget_definitions() -> None:
    """Auctions in this process read the buyers' definitions afresh: now, and once the change
    is committed (an auction reading them in between would keep the old ones)."""
    market.forget_buyers()
    transaction.on_commit(market.forget_buyers)


def new_secret() -> str:
    """A signing secret in the Standard Webhooks form ("whsec_" + base64 of 24 random bytes)."""
    import base64

    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def rotate_secret(buyer_id: int, *, by: Actor) -> str:
    """A new signing secret for the buyer, shown once."""
    require(by, Permission.MANAGE_BUYERS)
    secret = new_secret()
    if not Buyer.objects.filter(pk=buyer_id).update(secret_encrypted=encrypt(secret)):
        raise NotFound(_("No such buyer."))
    _forget_definitions()
    return secret


def add_login(buyer_id: int, user: User, *, by: Actor) -> BuyerLogin:
    """Let `user` (role buyer) into the buyer's portal."""
    require(by, Permission.MANAGE_BUYERS)
    if user.role != Role.BUYER:
        raise ValidationFailed(_("Only a user with the role “Lead buyer” can use the portal."))
    buyer = Buyer.objects.filter(pk=buyer_id).first()
    if buyer is None:
        raise NotFound(_("No such buyer."))
    login, _created = BuyerLogin.objects.update_or_create(user=user, defaults={"buyer": buyer})
    return login


def add_login_by_name(buyer_id: int, username: str, *, by: Actor) -> BuyerLogin:
    user = User.objects.filter(username=username.strip()).first()
    if user is None:
        raise NotFound(_("No user %(name)s.") % {"name": username[:150]})
    return add_login(buyer_id, user, by=by)


def add_entry(
    buyer_id: int,
    *,
    kind: str,
    amount: Decimal,
    by: Actor,
    note: str = "",
    sale_id: int | None = None,
    at: dt.datetime | None = None,
    currency: str | None = None,
    commit: bool = False,
) -> LedgerEntry:
    """One ledger entry with the buyer's balance moved by `amount`: the balance is updated and
    read back in the statement that writes the entry (so two entries at once each see the
    other's).

    `commit`: the entry is the last statement of the caller's own transaction (not one nested
    in another). On PostgreSQL the COMMIT then goes in the same round trip, so the buyer's row
    is locked for the server's work only. Every sale to a buyer waits for that lock: held across
    a round trip to a busy client (a thread waiting for Python's interpreter lock), it queued
    the sales to the buyer that won every auction (the auction benchmark's p50 was 1.4 s)."""
    entry = LedgerEntry(
        buyer_id=buyer_id,
        at=at or timezone.now(),
        kind=kind,
        amount=amount,
        currency=currency or "",
        sale_id=sale_id,
        note=note[:300],
        by_label=actor_label(by),
    )
    if commit and connection.vendor == "postgresql" and _owns_transaction():
        _write_entry(entry, commit=True)
        return entry
    # Inside a sale's recording: no savepoint of its own.
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            _write_entry(entry, commit=False)
        else:
            _update_then_insert(entry, currency)
    return entry


def _update_then_insert(entry: LedgerEntry, currency: str | None) -> None:
    table = connection.ops.quote_name(Buyer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET balance = balance + %s WHERE id = %s "  # noqa: S608 - our table
            "RETURNING balance, currency",
            [entry.amount, entry.buyer_id],
        )
        found = cursor.fetchone()
    if found is None:
        raise NotFound(_("No such buyer."))
    entry.balance_after = Decimal(str(found[0])).quantize(MONEY)
    entry.currency = currency or found[1]
    prepared.insert(entry)


def _owns_transaction() -> bool:
    """Whether the transaction open now is one atomic block's own, not a savepoint in another,
    and still bound to commit (nothing in it asked for a rollback)."""
    return (
        connection.in_atomic_block
        and len(connection.atomic_blocks) == 1
        and not connection.needs_rollback
    )


def _write_entry(entry: LedgerEntry, *, commit: bool) -> None:
    """PostgreSQL: the balance's update and the entry in one statement, and with `commit` the
    COMMIT after it in the same query string (Django's psycopg cursors bind parameters on the
    client, which allows several statements). Django's own commit then finds nothing to do.
    The buyer cannot be missing when `commit` is asked: its sales protect it from deletion."""
    ops = connection.ops
    buyers = ops.quote_name(Buyer._meta.db_table)
    ledger = ops.quote_name(LedgerEntry._meta.db_table)
    sql = (
        f"WITH moved AS (UPDATE {buyers} SET balance = balance + %s WHERE id = %s "  # noqa: S608 - our tables, fixed columns
        f"RETURNING id, balance, currency) INSERT INTO {ledger} (buyer_id, at, kind, amount, "
        "currency, balance_after, sale_id, note, by_label) SELECT id, %s, %s, %s, "
        "COALESCE(%s, currency), balance, CAST(%s AS BIGINT), %s, %s FROM moved "
        "RETURNING id, currency, balance_after"
    )
    params: list[Any] = [
        entry.amount,
        entry.buyer_id,
        entry.at,
        entry.kind,
        entry.amount,
        entry.currency or None,
        entry.sale_id,
        entry.note,
        entry.by_label,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql + ("; COMMIT" if commit else ""), params)
        found = cursor.fetchone()
    if found is None:
        raise NotFound(_("No such buyer."))
    entry.pk, entry.currency = found[0], found[1]
    entry.balance_after = Decimal(str(found[2])).quantize(MONEY)


def top_up(buyer_id: int, amount: Any, *, by: Actor, note: str = "") -> LedgerEntry:
    """Funds paid in by the buyer (or a credit given to it)."""
    require(by, Permission.MANAGE_BUYERS)
    value = money(amount, field="amount")
    if value <= 0:
        raise ValidationFailed(_("Check the amount."), errors={"amount": [_("More than zero.")]})
    if not Buyer.objects.filter(pk=buyer_id).exists():
        raise NotFound(_("No such buyer."))
    return add_entry(buyer_id, kind=EntryKind.TOP_UP, amount=value, by=by, note=note)
