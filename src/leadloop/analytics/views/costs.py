"""/analytics/costs/: marketing enters what a campaign cost (a day or a period), imports costs
from CSV, and sets what a purchased source charges per lead."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.analytics.forms import CostForm, CostImportForm, SourcePriceForm
from leadloop.analytics.selectors.costs import list_recent_costs
from leadloop.analytics.selectors.scope import can_see_source_roi
from leadloop.errors import LeadloopError
from leadloop.leads import selectors as lead_selectors
from leadloop.leads import services as lead_services


@login_required
def costs_page(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.user  # type: ignore[assignment]
    if not can_see_source_roi(actor):
        raise PermissionDenied
    campaigns = list(lead_selectors.list_campaigns(actor).select_related("source"))
    sources = list(lead_selectors.list_sources(actor))
    campaign_choices = [(c.pk, f"{c.source.name} · {c.name}") for c in campaigns]
    source_choices = [(s.pk, s.name) for s in sources]
    action = request.POST.get("action") if request.method == "POST" else None
    cost_form = CostForm(request.POST if action == "cost" else None, campaigns=campaign_choices)
    import_form = CostImportForm(
        request.POST if action == "import" else None,
        request.FILES if action == "import" else None,
    )
    price_form = SourcePriceForm(
        request.POST if action == "price" else None, sources=source_choices
    )
    status = 200
    if action == "cost" and cost_form.is_valid():
        data = dict(cost_form.cleaned_data)
        campaign = next(c for c in campaigns if c.pk == data.pop("campaign"))
        try:
            lead_services.add_campaign_cost(campaign, by=actor, **data)
        except LeadloopError as exc:
            cost_form.apply_service_error(exc)
        else:
            messages.success(request, _("The cost is recorded."))
            return redirect("analytics:costs")
    elif action == "import" and import_form.is_valid():
        upload = import_form.cleaned_data["file"]
        try:
            result = lead_services.import_campaign_costs(
                upload.read(lead_services.MAX_COST_IMPORT_BYTES + 1), by=actor
            )
        except LeadloopError as exc:
            import_form.add_error(None, exc.detail)
            for name, problems in exc.errors.items():
                for problem in problems:
                    import_form.add_error(None, f"{name}: {problem}")
        else:
            messages.success(request, _("%(n)d costs imported.") % {"n": result.created})
            return redirect("analytics:costs")
    elif action == "price" and price_form.is_valid():
        data = dict(price_form.cleaned_data)
        source = next(s for s in sources if s.pk == data.pop("source"))
        try:
            lead_services.set_source_cost(source, by=actor, **data)
        except LeadloopError as exc:
            price_form.apply_service_error(exc)
        else:
            messages.success(request, _("The price per lead is saved."))
            return redirect("analytics:costs")
    if action:
        status = 422
    context = {
        "cost_form": cost_form,
        "import_form": import_form,
        "price_form": price_form,
        "costs": list_recent_costs(actor),
        "priced": [s for s in sources if s.cost_per_lead is not None],
    }
    return render(request, "analytics/costs.html", context, status=status)
