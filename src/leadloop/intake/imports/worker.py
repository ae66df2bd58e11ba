"""Entry points of the batch import's worker processes.

A spawned worker unpickles its initializer before Django is set up, so this module imports
nothing that defines models; `init` sets Django up, and only then is the importer imported.
"""

from __future__ import annotations

import os
from typing import Any


def init(settings_module: str, language: str) -> None:
    """Set Django up in a fresh worker process, in the importing user's language."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django
    from django.utils import translation

    django.setup()
    translation.activate(language)


def validate(rows: list[tuple[int, list[str]]], plan: Any) -> list[tuple[Any, ...]]:
    """Map and validate one chunk of rows (see `intake.imports.bulk.validate_rows`)."""
    from leadloop.intake.imports.bulk.rows import validate_rows

    return validate_rows(rows, plan)
