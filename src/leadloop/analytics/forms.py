"""The report filters, the KPI norms, and entering costs and a source's price per lead."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from leadloop.analytics.selectors import periods

QUICK_PERIODS = (
    ("this-month", _("This month")),
    ("last-month", _("Last month")),
    ("this-quarter", _("This quarter")),
    ("last-30-days", _("Last 30 days")),
    ("this-year", _("This year")),
    ("last-12-months", _("Last 12 months")),
)


class ReportForm(forms.Form):
    """A report's query string: a period (a quick pick or written: 2026-11, 2026-Q4, a..b) and
    what each row is."""

    period = forms.CharField(
        label=_("Period"),
        required=False,
        max_length=40,
        help_text=_("2026-11, 2026-Q4, 2026, 2026-11-01..2026-11-30, last-30-days"),
        widget=forms.TextInput(attrs={"list": "period-picks", "size": "16"}),
    )
    by = forms.ChoiceField(label=_("Per"), required=False)

    def __init__(self, data: Any, *, groupings: list[tuple[str, Any]]) -> None:
        super().__init__({"period": data.get("period", ""), "by": data.get("by", "")})
        cast(forms.ChoiceField, self.fields["by"]).choices = groupings

    def spec(self) -> str:
        return (self.data.get("period") or periods.DEFAULT).strip()

    def grouping(self, default: str) -> str:
        self.is_valid()
        return self.cleaned_data.get("by") or default if "by" not in self.errors else default


class ServiceErrors(forms.Form):
    """A form that shows a service's refusal beside the fields it names."""

    def apply_service_error(self, exc: Any) -> None:
        for name, messages in exc.errors.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class NormsForm(ServiceErrors):
    followed_up_min = forms.IntegerField(
        label=_("Leads followed up, at least (%)"), min_value=0, max_value=100
    )
    overdue_max = forms.IntegerField(label=_("Overdue, at most (%)"), min_value=0, max_value=100)
    quoted_min = forms.IntegerField(
        label=_("Quoted of followed up, at least (%)"), min_value=0, max_value=100
    )
    won_min = forms.IntegerField(label=_("Won of quoted, at least (%)"), min_value=0, max_value=100)
    order_value_min = forms.DecimalField(
        label=_("Average order value, at least"), min_value=0, max_digits=14, decimal_places=2
    )
    first_contact_hours_max = forms.IntegerField(
        label=_("Median hours to first contact, at most"), min_value=1, max_value=1000
    )
    currency = forms.CharField(
        label=_("Reporting currency"),
        min_length=3,
        max_length=3,
        help_text=_("Money in other currencies is shown apart, never converted."),
    )


class CostForm(ServiceErrors):
    campaign = forms.TypedChoiceField(label=_("Campaign"), coerce=int)
    incurred_on = forms.DateField(
        label=_("Date (or first day)"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until_on = forms.DateField(
        label=_("Last day (for a period)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("A cost over a period is spread evenly over its days."),
    )
    amount = forms.DecimalField(label=_("Amount"), min_value=0, max_digits=14, decimal_places=2)
    currency = forms.CharField(
        label=_("Currency"),
        required=False,
        max_length=3,
        help_text=_("Empty: the campaign's currency."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=255)

    def __init__(self, *args: Any, campaigns: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["campaign"]).choices = campaigns


class CostImportForm(forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: campaign, date (or from), until, amount, currency, source, note. "
            "All or nothing: a bad row refuses the file."
        ),
    )


class SourcePriceForm(ServiceErrors):
    source = forms.TypedChoiceField(label=_("Source"), coerce=int)
    cost_per_lead = forms.DecimalField(
        label=_("Cost per lead"),
        required=False,
        min_value=0,
        max_digits=10,
        decimal_places=2,
        help_text=_("Empty: the source is not paid per lead."),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="EUR")

    def __init__(self, *args: Any, sources: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["source"]).choices = sources


class AlertForm(ServiceErrors):
    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("When"))
    threshold = forms.DecimalField(
        label=_("Limit"),
        required=False,
        min_value=0,
        max_digits=14,
        decimal_places=2,
        help_text=_(
            "Cost per order: an amount. ROI: revenue ÷ cost (1 is break-even). Overdue: a "
            "percentage. Not used for a source that stopped sending."
        ),
    )
    window_days = forms.IntegerField(
        label=_("Over the last (days)"), min_value=1, max_value=366, initial=30
    )
    silent_hours = forms.IntegerField(
        label=_("Silent for (hours)"),
        min_value=1,
        max_value=336,
        initial=24,
        help_text=_(
            "Only for a source that stopped sending: no leads for this long, when it "
            "usually sends in those hours."
        ),
    )
    source = forms.TypedChoiceField(label=_("Source"), required=False, coerce=int, empty_value=None)
    team = forms.TypedChoiceField(label=_("Team"), required=False, coerce=int, empty_value=None)
    owner = forms.TypedChoiceField(label=_("Tell"), coerce=int)

    def __init__(
        self,
        *args: Any,
        kinds: list[tuple[str, Any]],
        sources: list[tuple[int, str]],
        teams: list[tuple[int, str]],
        owners: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["kind"]).choices = kinds
        cast(forms.ChoiceField, self.fields["source"]).choices = [("", _("Every source")), *sources]
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", _("Every team")), *teams]
        cast(forms.ChoiceField, self.fields["owner"]).choices = owners
