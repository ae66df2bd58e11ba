"""The two routers the sales endpoints hang on (each endpoint module adds its operations), and
what their request bodies share: amounts as text, times read in the caller's zone."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from django.utils import timezone
from ninja import Router
from pydantic import BeforeValidator, Field

sales_router = Router()
lead_router = Router()


def _as_text(value: Any) -> Any:
    """A JSON number for an amount is taken as its text; the service reads the decimal."""
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        return str(value)
    return value


Amount = Annotated[
    str, BeforeValidator(_as_text), Field(max_length=40, description='A decimal, e.g. "1250.00"')
]


def aware(value: dt.datetime) -> dt.datetime:
    """A time without an offset is read in the caller's time zone."""
    return timezone.make_aware(value) if timezone.is_naive(value) else value
