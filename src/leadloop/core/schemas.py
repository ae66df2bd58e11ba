"""What every API request body shares: unknown fields are refused, and so is a NUL character in
any text (PostgreSQL cannot store one; SQLite would keep it silently)."""

from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import ConfigDict, field_validator


class StrictIn(Schema):
    """A request body: unknown fields are refused, and so is a NUL character in any text."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("Contains a NUL character, which cannot be stored.")
        return value
