"""The main menu, declared by the apps: each registers its entries in `AppConfig.ready()`.

`web` draws the menu from here without naming any app, so a new app adds its pages by
registering a `NavEntry`, and the order comes from `position`, not from which app loaded first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise


@dataclass(frozen=True)
class NavEntry:
    """One menu entry: shown to users for whom `visible(user)` holds, marked active while the
    path starts with `prefix` (the longest matching prefix wins), with an optional count."""

    position: int
    label: str | Promise
    url_name: str
    icon: str
    prefix: str
    visible: Callable[[Any], bool]
    badge: Callable[[Any], int] | None = None


_ENTRIES: dict[str, NavEntry] = {}


def everyone(user: Any) -> bool:
    """Visibility of an entry every logged-in user sees."""
    return True


def register(*entries: NavEntry) -> None:
    """Add menu entries; a second registration of a url name replaces the first."""
    for entry in entries:
        _ENTRIES[entry.url_name] = entry


def entries() -> list[NavEntry]:
    """Every registered entry, in menu order."""
    return sorted(_ENTRIES.values(), key=lambda entry: entry.position)
