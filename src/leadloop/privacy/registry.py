"""Apps above privacy that keep personal data of their own add a section to a person's export
and erasure here, in their AppConfig.ready():

    from leadloop.privacy.registry import PersonDataSection, register_section
    register_section(PersonDataSection("deliveries", export=deliveries_of, erase=erase_deliveries))

`export(lead_ids)` returns JSON-safe dicts; `erase(lead_ids, at)` blanks the personal values in
the app's own rows (keeping counts and money) inside the caller's transaction and returns how
many rows changed. A section registered again under the same name replaces the earlier one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonDataSection:
    name: str
    export: Callable[[list[int]], list[dict[str, Any]]]
    erase: Callable[[list[int], dt.datetime], int]


def _nothing_yet(lead_ids: list[int]) -> list[dict[str, Any]]:
    return []


def _nothing_to_erase(lead_ids: list[int], at: dt.datetime) -> int:
    return 0


# Deliveries to buyers and partners do not exist yet: the distribution app replaces this.
SECTIONS: dict[str, PersonDataSection] = {
    "deliveries": PersonDataSection("deliveries", export=_nothing_yet, erase=_nothing_to_erase)
}


def register_section(section: PersonDataSection) -> None:
    """Add (or replace) a section of every person's export and erasure."""
    SECTIONS[section.name] = section
