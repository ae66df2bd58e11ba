"""The KPI norms (one row, made with the defaults on first read)."""

from __future__ import annotations

from leadloop.analytics.models import KpiNorms


def get_norms() -> KpiNorms:
    """The norms every KPI is measured against."""
    norms = KpiNorms.objects.order_by("pk").first()
    if norms is None:
        norms, _created = KpiNorms.objects.get_or_create(pk=1)
    return norms
