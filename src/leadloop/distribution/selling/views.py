"""The lead market's pages: buyers (list, form, page with its log, money and a test), sales and
auctions, returns to decide, revenue per source, and the buyer portal."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from leadloop.accounts.models import User
from leadloop.distribution.selling import selectors
from leadloop.distribution.selling.forms import BuyerForm, ReturnForm, TopUpForm, initial_for
from leadloop.distribution.selling.services import (
    auction,
    batches,
    buyers,
    recovery,
    returns,
    trying,
)
from leadloop.errors import LeadloopError, NotFound


def _manager(request: HttpRequest) -> User:
    user: User = request.user  # type: ignore[assignment]
    if not selectors.can_manage(user):
        raise Http404
    return user


def _flash(request: HttpRequest, exc: LeadloopError) -> None:
    messages.error(request, exc.detail)
    for field, problems in exc.errors.items():
        messages.error(request, f"{field}: {' '.join(problems)}")


@login_required
@require_GET
def buyers_page(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    found = list(selectors.list_buyers(user))
    stats = selectors.buyer_stats(found)
    return render(
        request,
        "selling/buyers.html",
        {
            "rows": [{"buyer": b, "stats": stats[b.pk]} for b in found],
            "waiting_returns": selectors.count_waiting_returns(user),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def buyer_edit(request: HttpRequest, buyer_id: int | None = None) -> HttpResponse:
    user = _manager(request)
    buyer = selectors.get_buyer_for(user, buyer_id) if buyer_id else None
    if request.method == "POST":
        form = BuyerForm(request.POST)
        if form.is_valid():
            try:
                saved = buyers.save_buyer(form.data_for_service(), by=user, buyer_id=buyer_id)
            except LeadloopError as exc:
                for field, problems in exc.errors.items():
                    for problem in problems:
                        form.add_error(field if field in form.fields else None, problem)
                if not exc.errors:
                    form.add_error(None, exc.detail)
            else:
                messages.success(request, _("Buyer %(name)s saved.") % {"name": saved.name})
                return redirect("selling:buyer", saved.pk)
        status = 422
    else:
        form = BuyerForm(initial=initial_for(buyer) if buyer else None)
        status = 200
    return render(request, "selling/buyer_form.html", {"form": form, "buyer": buyer}, status=status)


@login_required
@require_GET
def buyer_page(request: HttpRequest, buyer_id: int) -> HttpResponse:
    user = _manager(request)
    buyer = selectors.get_buyer_for(user, buyer_id)
    return render(
        request,
        "selling/buyer.html",
        {
            "buyer": buyer,
            "stats": selectors.buyer_stats([buyer])[buyer.pk],
            "log": selectors.list_delivery_log(user, buyer.pk)[:30],
            "ledger": buyer.ledger.order_by("-at", "-id")[:30],
            "sales": selectors.list_sales(user, buyer_id=buyer.pk)[:30],
            "top_up_form": TopUpForm(),
            "logins": buyer.logins.select_related("user"),
            "batches": buyer.batches.all()[:14],
            "yesterday": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
            "preview": None,
        },
    )


@login_required
@require_POST
def buyer_top_up(request: HttpRequest, buyer_id: int) -> HttpResponse:
    user = _manager(request)
    form = TopUpForm(request.POST)
    if form.is_valid():
        try:
            buyers.top_up(
                buyer_id, form.cleaned_data["amount"], by=user, note=form.cleaned_data["note"]
            )
        except LeadloopError as exc:
            _flash(request, exc)
        else:
            messages.success(request, _("Funds added."))
    else:
        messages.error(request, _("Check the amount."))
    return redirect("selling:buyer", buyer_id)


@login_required
@require_POST
def buyer_test(request: HttpRequest, buyer_id: int) -> HttpResponse:
    """Preview (and with "send", post as a test) what the buyer receives for a real lead."""
    user = _manager(request)
    buyer = selectors.get_buyer_for(user, buyer_id)
    try:
        lead_id = int(request.POST.get("lead_id", ""))
        found = trying.preview(buyer.pk, lead_id, by=user, send="send" in request.POST)
    except (ValueError, LeadloopError) as exc:
        found = None
        messages.error(
            request, exc.detail if isinstance(exc, LeadloopError) else _("A lead number.")
        )
    return render(request, "selling/_preview.html", {"preview": found, "buyer": buyer})


@login_required
@require_POST
def buyer_login(request: HttpRequest, buyer_id: int) -> HttpResponse:
    user = _manager(request)
    try:
        buyers.add_login_by_name(buyer_id, request.POST.get("username", ""), by=user)
    except LeadloopError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("The user can now use the buyer portal."))
    return redirect("selling:buyer", buyer_id)


@login_required
@require_POST
def buyer_sftp(request: HttpRequest, buyer_id: int) -> HttpResponse:
    """The daily CSV to SFTP: save where to, or send a day's file now."""
    user = _manager(request)
    try:
        if "send" in request.POST:
            day = dt.date.fromisoformat(request.POST.get("day", ""))
            batch = batches.send_batch(buyer_id, day, by=user, again=True)
            if batch.error:
                messages.error(request, batch.error)
            else:
                messages.success(
                    request,
                    _("%(file)s sent with %(n)d leads.")
                    % {"file": batch.file_name, "n": batch.rows},
                )
        else:
            password = request.POST.get("password") or None
            batches.configure_sftp(
                buyer_id,
                {k: request.POST.get(k, "") for k in batches.SFTP_KEYS},
                password=password,
                by=user,
            )
            messages.success(request, _("SFTP settings saved."))
    except ValueError:
        messages.error(request, _("A day like 2026-12-31."))
    except LeadloopError as exc:
        _flash(request, exc)
    return redirect("selling:buyer", buyer_id)


@login_required
@require_POST
def buyer_secret(request: HttpRequest, buyer_id: int) -> HttpResponse:
    user = _manager(request)
    secret = buyers.rotate_secret(buyer_id, by=user)
    messages.success(
        request, _("The new signing secret (shown once): %(secret)s") % {"secret": secret}
    )
    return redirect("selling:buyer", buyer_id)


@login_required
@require_GET
def statement_page(request: HttpRequest, buyer_id: int) -> HttpResponse:
    """A monthly statement: for marketing any buyer's, for a buyer's user its own."""
    user: User = request.user  # type: ignore[assignment]
    try:
        found = selectors.statement(user, buyer_id, request.GET.get("month"))
    except NotFound as exc:
        raise Http404 from exc
    if request.GET.get("format") == "csv":
        response = HttpResponse(
            selectors.statement_as_csv(found), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{found.buyer.pk}-{found.month}.csv"'
        )
        return response
    return render(request, "selling/statement.html", {"statement": found})


@login_required
@require_http_methods(["GET", "POST"])
def sales_page(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    dry = None
    if request.method == "POST":
        try:
            lead_id = int(request.POST.get("lead_id", ""))
            if "dry_run" in request.POST:
                dry = trying.dry_run(lead_id, by=user)
            else:
                result = auction.sell_lead(lead_id, by=user)
                messages.info(request, f"#{lead_id}: {result.explanation}")
                if result.auction:
                    return redirect("selling:auction", result.auction.pk)
        except ValueError:
            messages.error(request, _("A lead number."))
        except LeadloopError as exc:
            _flash(request, exc)
    return render(
        request,
        "selling/sales.html",
        {
            "sales": selectors.list_sales(user)[:100],
            "auctions": selectors.list_auctions(user)[:30],
            "dry": dry,
        },
    )


@login_required
@require_GET
def auction_page(request: HttpRequest, auction_id: int) -> HttpResponse:
    user = _manager(request)
    found = selectors.get_auction_for(user, auction_id)
    bids = found.bids.select_related("buyer").order_by("rank", "id")
    return render(request, "selling/auction.html", {"auction": found, "bids": bids})


@login_required
@require_POST
def sale_redeliver(request: HttpRequest, sale_id: int) -> HttpResponse:
    user = _manager(request)
    sale = selectors.get_sale_for(user, sale_id)
    try:
        state = recovery.redeliver(sale_id, by=user)
    except LeadloopError as exc:
        _flash(request, exc)
    else:
        messages.info(request, _("Sent again: %(state)s.") % {"state": state})
    return redirect("selling:buyer", sale.buyer_id)


@login_required
@require_GET
def returns_page(request: HttpRequest) -> HttpResponse:
    user = _manager(request)
    return render(
        request,
        "selling/returns.html",
        {
            "waiting": selectors.list_returns(user, waiting=True)[:200],
            "decided": selectors.list_returns(user).exclude(state="requested")[:50],
            "revenue": selectors.revenue_by_source(user),
        },
    )


@login_required
@require_POST
def return_decide(request: HttpRequest, return_id: int) -> HttpResponse:
    user = _manager(request)
    try:
        returns.decide_return(
            return_id,
            approve=request.POST.get("decision") == "approve",
            by=user,
            note=request.POST.get("note", ""),
        )
    except LeadloopError as exc:
        _flash(request, exc)
    return redirect("selling:returns")


# The buyer portal -------------------------------------------------------------------------


def _portal_user(request: HttpRequest) -> tuple[User, int]:
    user: User = request.user  # type: ignore[assignment]
    buyer_id = selectors.portal_buyer_id(user)
    if buyer_id is None:
        raise Http404
    return user, buyer_id


@login_required
@require_GET
def portal_page(request: HttpRequest) -> HttpResponse:
    user, buyer_id = _portal_user(request)
    buyer = selectors.get_buyer_for(user, buyer_id)
    sales = (
        selectors.list_sales(user)
        .filter(state__in=["sold", "returned"])
        .select_related("return_request")[:200]
    )
    return render(
        request,
        "selling/portal.html",
        {
            "buyer": buyer,
            "sales": sales,
            "returns": selectors.list_returns(user)[:50],
            "return_form": ReturnForm(),
        },
    )


@login_required
@require_POST
def portal_return(request: HttpRequest, sale_id: int) -> HttpResponse:
    user, _buyer_id = _portal_user(request)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("A return needs a reason."))
        return redirect("selling:portal")
    try:
        returns.request_return(sale_id, reason=form.cleaned_data["reason"], by=user)
    except NotFound as exc:
        raise Http404 from exc
    except LeadloopError as exc:
        _flash(request, exc)
    else:
        messages.success(request, _("Return asked for; marketing decides."))
    return redirect("selling:portal")
