"""Background work of privacy; each task calls one service."""

from __future__ import annotations

from leadloop.core.retry import retrying_task


@retrying_task(max_attempts=3)
def apply_retention_task() -> int:
    """Erase what the retention rules say was kept long enough; returns how many rows."""
    from leadloop.privacy import services

    return services.apply_retention().total


@retrying_task(max_attempts=3)
def compact_search_index_task() -> str:
    """Merge the search index after an erasure, so no erased word lingers in it."""
    from leadloop.leads import services as leads_services

    return leads_services.compact_search_index()
