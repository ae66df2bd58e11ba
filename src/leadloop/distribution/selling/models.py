"""The lead market's tables: buyers, their logins, auctions and bids, sales with their delivery
log, returns and the ledger of money per buyer."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeliveryMethod(models.TextChoices):
    JSON = "json", _("HTTP POST, JSON")
    XML = "xml", _("HTTP POST, XML")
    FORM = "form", _("HTTP POST, name-value pairs")
    EMAIL = "email", _("E-mail (HTML, CSV and vCard)")


class Funding(models.TextChoices):
    PREPAID = "prepaid", _("Prepaid: buys while its balance covers the price")
    CREDIT = "credit", _("On credit: buys down to minus its credit limit")


class Buyer(models.Model):
    """A company that buys leads: which (filters), at what price, how many (caps), when
    (schedule), how (delivery) and with what money (balance). Ping-post buyers first bid on a
    lead without its contact data; the others buy at their price."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    is_active = models.BooleanField(_("buys leads"), default=True)
    contact_name = models.CharField(_("contact person"), max_length=200, blank=True, default="")
    contact_email = models.EmailField(_("contact e-mail"), blank=True, default="")
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True, default="")
    # Routing conditions ({"field", "op", "value"}), all of which a lead must meet.
    filters = models.JSONField(_("filters"), default=list, blank=True)
    price = models.DecimalField(_("price per lead"), max_digits=10, decimal_places=2)
    # [{"conditions": [...], "price": "40.00"}]: the first rule whose conditions hold sets the
    # price; else `price`.
    price_rules = models.JSONField(_("price rules"), default=list, blank=True)
    currency = models.CharField(_("currency"), max_length=3, default="EUR")
    cap_hour = models.PositiveIntegerField(_("most leads an hour"), null=True, blank=True)
    cap_day = models.PositiveIntegerField(_("most leads a day"), null=True, blank=True)
    cap_week = models.PositiveIntegerField(_("most leads a week"), null=True, blank=True)
    cap_month = models.PositiveIntegerField(_("most leads a month"), null=True, blank=True)
    cap_total = models.PositiveIntegerField(_("most leads in total"), null=True, blank=True)
    # ISO weekday digits and hours in the deployment's time zone; no hours: all day.
    work_days = models.CharField(_("buys on days"), max_length=7, default="1234567")
    hours_from = models.TimeField(_("buys from"), null=True, blank=True)
    hours_until = models.TimeField(_("buys until"), null=True, blank=True)
    # 1: the lead is sold to this buyer alone. N: shared with at most N buyers in all.
    max_shares = models.PositiveSmallIntegerField(_("shared with at most (buyers)"), default=1)
    funding = models.CharField(
        _("funding"), max_length=10, choices=Funding.choices, default=Funding.PREPAID
    )
    credit_limit = models.DecimalField(
        _("credit limit"), max_digits=12, decimal_places=2, default=Decimal("0")
    )
    # The sum of its ledger, kept in the same transaction as each entry (verify recounts it).
    balance = models.DecimalField(_("balance"), max_digits=14, decimal_places=2, default=0)
    return_days = models.PositiveSmallIntegerField(_("return window (days)"), default=30)
    priority = models.SmallIntegerField(_("priority (breaks ties)"), default=0)
    weight = models.PositiveSmallIntegerField(_("weight (breaks ties after priority)"), default=1)
    method = models.CharField(
        _("delivery"), max_length=10, choices=DeliveryMethod.choices, default=DeliveryMethod.JSON
    )
    url = models.URLField(_("post to"), max_length=500, blank=True, default="")
    email_to = models.EmailField(_("e-mail leads to"), blank=True, default="")
    # [[their name, our field or "=constant"], ...]; empty: the standard fields by our names.
    field_map = models.JSONField(_("field mapping"), default=list, blank=True)
    # How its answer reads: [{"test", "expr", "value", "outcome"}], the first that holds decides.
    answer_rules = models.JSONField(_("answer rules"), default=list, blank=True)
    secret_encrypted = models.TextField(blank=True, default="", editable=False)
    timeout_ms = models.PositiveIntegerField(_("time-out (ms)"), default=5000)
    retries = models.PositiveSmallIntegerField(_("tries again after a 5xx or time-out"), default=2)
    # Ping-post: bids on the lead without contact data before it is posted.
    pings = models.BooleanField(_("bids by ping"), default=False)
    ping_url = models.URLField(_("ping to"), max_length=500, blank=True, default="")
    ping_fields = models.JSONField(_("fields in the ping"), default=list, blank=True)
    # Where the price is in its bid (a dotted JSON path).
    bid_path = models.CharField(_("bid price at"), max_length=100, default="price")
    ping_timeout_ms = models.PositiveIntegerField(_("ping time-out (ms)"), default=500)
    # A daily CSV of the day's leads to the buyer's SFTP server: {host, port, username, directory,
    # host_key}; the password apart, encrypted. No host: no batch.
    sftp = models.JSONField(_("daily CSV to SFTP"), default=dict, blank=True)
    sftp_password_encrypted = models.TextField(blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("buyer")
        constraints = [
            models.CheckConstraint(condition=Q(max_shares__gte=1), name="buyer_shares_positive"),
            models.CheckConstraint(condition=Q(weight__gte=1), name="buyer_weight_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class BuyerLogin(models.Model):
    """A user of the buyer portal (role buyer): sees the buyer's leads, returns and money."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="buyer_login"
    )
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="logins")

    def __str__(self) -> str:
        return f"{self.user_id} → {self.buyer_id}"


class AuctionState(models.TextChoices):
    OPEN = "open", _("Running")
    SOLD = "sold", _("Sold")
    UNSOLD = "unsold", _("Not sold")


class Auction(models.Model):
    """One attempt to sell a lead: the buyers asked, their bids, the posts in ranked order.
    At most one runs per lead (the partial unique constraint), so two can never race."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    state = models.CharField(max_length=10, choices=AuctionState.choices, default="open")
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    deadline_ms = models.PositiveIntegerField(default=750)
    floor = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"))
    took_ms = models.PositiveIntegerField(null=True, blank=True)
    explanation = models.TextField(blank=True, default="")
    by_label = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["lead"], condition=Q(state="open"), name="auction_one_open_per_lead"
            ),
        ]
        indexes = [
            models.Index(fields=["lead", "started_at"], name="auction_lead"),
            models.Index(fields=["started_at"], name="auction_open", condition=Q(state="open")),
        ]

    def __str__(self) -> str:
        return f"auction {self.pk} lead {self.lead_id} {self.state}"


class BidOutcome(models.TextChoices):
    FIXED = "fixed", _("Fixed price")
    BID = "bid", _("Bid")
    NO_BID = "no_bid", _("No bid")
    TIMEOUT = "timeout", _("Too late")
    ERROR = "error", _("Error")
    BELOW_FLOOR = "below_floor", _("Below the floor price")
    WON = "won", _("Bought")
    POST_REJECTED = "post_rejected", _("Turned the lead down")
    POST_FAILED = "post_failed", _("Could not be delivered")
    NOT_REACHED = "not_reached", _("Not needed")
    OVER_CAP = "over_cap", _("Cap or funds reached")


class Bid(models.Model):
    """A buyer's part in an auction: its price (asked by ping or fixed), how long its answer
    took and what came of it."""

    auction = models.ForeignKey(Auction, on_delete=models.CASCADE, related_name="bids")
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="+")
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    ms = models.PositiveIntegerField(null=True, blank=True)
    outcome = models.CharField(max_length=15, choices=BidOutcome.choices)
    rank = models.PositiveSmallIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["rank", "id"]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.price} {self.outcome}"


class SaleState(models.TextChoices):
    DELIVERING = "delivering", _("Being delivered")
    SOLD = "sold", _("Sold")
    REJECTED = "rejected", _("Turned down by the buyer")
    FAILED = "failed", _("Could not be delivered")
    RETURNED = "returned", _("Returned")


class Sale(models.Model):
    """A lead offered to one buyer at one price. Written (state delivering, with its key)
    before the lead is sent, so a worker that dies mid-way leaves a row the sweep delivers
    again under the same key: the buyer sees a repeat, and the ledger charges a sale once."""

    lead = models.ForeignKey("leads.Lead", on_delete=models.CASCADE, related_name="+")
    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="sales")
    auction = models.ForeignKey(
        Auction, null=True, blank=True, on_delete=models.SET_NULL, related_name="sales"
    )
    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    state = models.CharField(max_length=12, choices=SaleState.choices)
    price = models.DecimalField(max_digits=10, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    created_at = models.DateTimeField()
    sold_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    reason = models.CharField(max_length=300, blank=True, default="")
    their_ref = models.CharField(max_length=120, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # A lead goes to a buyer once while the sale stands.
            models.UniqueConstraint(
                fields=["lead", "buyer"],
                condition=Q(state__in=["delivering", "sold"]),
                name="sale_once_per_buyer",
            ),
        ]
        indexes = [
            models.Index(fields=["buyer", "created_at"], name="sale_buyer_at"),
            models.Index(fields=["lead"], name="sale_lead"),
            models.Index(
                fields=["created_at"], name="sale_delivering", condition=Q(state="delivering")
            ),
            models.Index(fields=["sold_at"], name="sale_sold_at", condition=Q(state="sold")),
        ]

    def __str__(self) -> str:
        return f"lead {self.lead_id} → buyer {self.buyer_id}: {self.state}"


class DeliveryLog(models.Model):
    """One try to deliver a sale (or a test): what was sent (secrets masked) and the answer."""

    sale = models.ForeignKey(
        Sale, null=True, blank=True, on_delete=models.CASCADE, related_name="log"
    )
    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="+")
    at = models.DateTimeField()
    request = models.TextField(blank=True, default="")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response = models.TextField(blank=True, default="")
    outcome = models.CharField(max_length=12, default="")
    error = models.CharField(max_length=300, blank=True, default="")
    duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["buyer", "at"], name="delivery_log_buyer")]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.at:%Y-%m-%d %H:%M} {self.outcome}"


class ReturnState(models.TextChoices):
    REQUESTED = "requested", _("Waiting for a decision")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")


class LeadReturn(models.Model):
    """A buyer sending a bought lead back, with a reason, for marketing to approve or refuse."""

    sale = models.OneToOneField(Sale, on_delete=models.CASCADE, related_name="return_request")
    reason = models.CharField(_("reason"), max_length=500)
    state = models.CharField(max_length=10, choices=ReturnState.choices, default="requested")
    requested_at = models.DateTimeField()
    requested_by_label = models.CharField(max_length=150, blank=True, default="")
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by_label = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(_("note"), max_length=500, blank=True, default="")

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["requested_at"], name="return_waiting", condition=Q(state="requested")
            ),
        ]

    def __str__(self) -> str:
        return f"return of sale {self.sale_id}: {self.state}"


class EntryKind(models.TextChoices):
    SALE = "sale", _("Lead bought")
    RETURN = "return", _("Lead returned")
    TOP_UP = "top_up", _("Funds added")
    CREDIT = "credit", _("Credit")


class LedgerEntry(models.Model):
    """Money in a buyer's account: a sale takes its price, an approved return gives it back,
    a top-up or credit adds. Append-only; one entry of a kind per sale."""

    buyer = models.ForeignKey(Buyer, on_delete=models.PROTECT, related_name="ledger")
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3, default="EUR")
    balance_after = models.DecimalField(max_digits=14, decimal_places=2)
    sale = models.ForeignKey(
        Sale, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    note = models.CharField(max_length=300, blank=True, default="")
    by_label = models.CharField(max_length=150, blank=True, default="")

    class Meta:
        ordering = ["at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["sale", "kind"], condition=Q(sale__isnull=False), name="ledger_once"
            ),
        ]
        indexes = [models.Index(fields=["buyer", "at"], name="ledger_buyer_at")]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.kind} {self.amount}"


class BuyerBatch(models.Model):
    """The daily CSV of one buyer's leads of one day, sent to its SFTP server once."""

    buyer = models.ForeignKey(Buyer, on_delete=models.CASCADE, related_name="batches")
    day = models.DateField()
    file_name = models.CharField(max_length=100)
    rows = models.PositiveIntegerField(default=0)
    tried_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    error = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["buyer", "day"], name="buyer_batch_once_a_day"),
        ]

    def __str__(self) -> str:
        return f"{self.buyer_id} {self.day} {self.rows}"
