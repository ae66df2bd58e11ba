"""The webhooks pages (admins): the list, adding and editing, one webhook with its delivery log,
one delivery with its tries, and the buttons: send a test, replay, rotate the secret."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import LeadloopError
from leadloop.webhooks import selectors
from leadloop.webhooks.forms import SubscriptionForm
from leadloop.webhooks.models import DeliveryState, Subscription
from leadloop.webhooks.services import subscriptions as services

PAGE = 50


def _actor(request: HttpRequest) -> Actor:
    actor: Actor = request.user  # type: ignore[assignment]
    require(actor, Permission.MANAGE_WEBHOOKS)
    return actor


@login_required
@require_GET
def subscription_list(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    return render(
        request,
        "webhooks/list.html",
        {"subscriptions": list(selectors.list_subscriptions_for(actor))},
    )


@login_required
def subscription_new(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if request.method != "POST":
        return render(request, "webhooks/form.html", {"form": SubscriptionForm()})
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            subscription, secret = services.create_subscription(by=actor, **form.cleaned_data)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            # The secret is on this response only: never in a redirect, a message or a log.
            return _detail(request, actor, subscription.pk, secret=secret, status=201)
    return render(request, "webhooks/form.html", {"form": form}, status=422)


@login_required
def subscription_edit(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = _actor(request)
    subscription = selectors.get_subscription_for(actor, subscription_id)
    if request.method != "POST":
        initial = {
            "url": subscription.url,
            "description": subscription.description,
            "events": subscription.events,
            "is_active": subscription.is_active,
        }
        form = SubscriptionForm(initial=initial)
        return render(request, "webhooks/form.html", {"form": form, "subscription": subscription})
    form = SubscriptionForm(request.POST)
    if form.is_valid():
        try:
            services.update_subscription(subscription, by=actor, **form.cleaned_data)
        except LeadloopError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("webhooks:detail", subscription_id=subscription.pk)
    context = {"form": form, "subscription": subscription}
    return render(request, "webhooks/form.html", context, status=422)


def _detail(
    request: HttpRequest,
    actor: Actor,
    subscription_id: int,
    *,
    secret: str = "",
    status: int = 200,
) -> HttpResponse:
    subscription = selectors.get_subscription_for(actor, subscription_id)
    state = request.GET.get("state", "")
    if state not in DeliveryState.values:
        state = ""
    deliveries = selectors.list_deliveries_for(
        actor, subscription_id=subscription.pk, state=state or None
    )
    before = request.GET.get("before", "")
    if before.isdigit() and len(before) < 19:
        deliveries = deliveries.filter(pk__lt=int(before))
    page = list(deliveries[: PAGE + 1])
    context = {
        "subscription": subscription,
        "secret": secret,
        "deliveries": page[:PAGE],
        "next_before": page[PAGE - 1].pk if len(page) > PAGE else None,
        "state": state,
        "states": DeliveryState.choices,
    }
    return render(request, "webhooks/detail.html", context, status=status)


@login_required
@require_GET
def subscription_detail(request: HttpRequest, subscription_id: int) -> HttpResponse:
    return _detail(request, _actor(request), subscription_id)


@login_required
@require_POST
def subscription_rotate(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = _actor(request)
    subscription = selectors.get_subscription_for(actor, subscription_id)
    secret = services.rotate_secret(subscription, by=actor)
    return _detail(request, actor, subscription.pk, secret=secret)


@login_required
@require_POST
def subscription_test(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = _actor(request)
    subscription = selectors.get_subscription_for(actor, subscription_id)
    delivery = services.send_test(subscription, by=actor)
    if delivery.state == DeliveryState.DELIVERED:
        messages.success(
            request,
            _("Test event delivered: the endpoint answered HTTP %(status)s.")
            % {"status": delivery.last_status},
        )
    elif not subscription.is_active:
        messages.error(request, _("The webhook is paused: the test event waits until it is on."))
    else:
        messages.error(
            request,
            _("The test event was not accepted: %(error)s It is tried again on the schedule.")
            % {"error": delivery.last_error},
        )
    return redirect("webhooks:detail", subscription_id=subscription.pk)


@login_required
@require_POST
def subscription_replay_failed(request: HttpRequest, subscription_id: int) -> HttpResponse:
    actor = _actor(request)
    subscription = selectors.get_subscription_for(actor, subscription_id)
    count = services.replay_failed(subscription, by=actor)
    messages.success(request, _("%(n)d deliveries are sent again.") % {"n": count})
    return redirect("webhooks:detail", subscription_id=subscription.pk)


@login_required
def subscription_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    """GET asks to confirm; the confirming POST deletes (a page, not a JavaScript confirm)."""
    actor = _actor(request)
    subscription: Subscription = selectors.get_subscription_for(actor, subscription_id)
    if request.method != "POST" or request.POST.get("confirm") != "1":
        return render(request, "webhooks/delete.html", {"subscription": subscription})
    services.delete_subscription(subscription, by=actor)
    messages.success(request, _("The webhook to %(url)s is deleted.") % {"url": subscription.url})
    return redirect("webhooks:list")


@login_required
@require_GET
def delivery_detail(request: HttpRequest, delivery_id: int) -> HttpResponse:
    actor = _actor(request)
    delivery = selectors.get_delivery_for(actor, delivery_id)
    try:
        body = json.dumps(json.loads(delivery.message.body), indent=2, ensure_ascii=False)
    except ValueError:
        body = delivery.message.body
    context = {"delivery": delivery, "body": body, "log": selectors.attempts_of(delivery)}
    return render(request, "webhooks/delivery.html", context)


@login_required
@require_POST
def delivery_replay(request: HttpRequest, delivery_id: int) -> HttpResponse:
    actor = _actor(request)
    delivery = services.replay(selectors.get_delivery_for(actor, delivery_id), by=actor)
    messages.success(request, _("The delivery is sent again."))
    if request.POST.get("back") == "log":
        return redirect("webhooks:detail", subscription_id=delivery.subscription_id)
    return redirect("webhooks:delivery", delivery_id=delivery.pk)
