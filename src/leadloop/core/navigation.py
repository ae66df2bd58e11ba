"""The main menu, declared by the apps: each registers its entries in `AppConfig.ready()`.

`web` draws the menu from here without naming any app, so a new app adds its pages by
registering a `NavEntry`, and the order comes from `position`, not from which app loaded first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

# What a badge counts unless its entry says otherwise (the review queues').
TO_REVIEW = _("to review")


@dataclass(frozen=True)
class NavEntry:
    """One menu entry: shown to users for whom `visible(user)` holds, marked active while the
    path starts with `prefix` (the longest matching prefix wins), with an optional count.

    `badge` is the path of a selector `(user) -> int`, imported when a page is drawn, not when
    Django is set up. `badge_label` says what the count counts, for screen readers ("3 unread").
    """

    position: int
    label: str | Promise
    url_name: str
    icon: str
    prefix: str
    visible: Callable[[Any], bool]
    badge: str | None = None
    badge_label: str | Promise = TO_REVIEW

    def count_for(self, user: Any) -> int:
        """The number shown beside the entry, 0 without a badge."""
        if self.badge is None:
            return 0
        count: int = import_string(self.badge)(user)
        return count


# A badge counts up to this and one more; past it the menu says "1,000+".
BADGE_CAP = 1_000

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
