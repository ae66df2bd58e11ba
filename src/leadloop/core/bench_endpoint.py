"""A bare insert endpoint, mounted only when LEADLOOP_BENCH_ENDPOINTS=1.

The intake benchmark compares /in/<key> with this in the same server and run: a django-ninja
POST that parses a small JSON body and inserts one row, nothing else. It is the ceiling the
intake's own work is measured against (docs/benchmarks.md).
"""

from __future__ import annotations

from django.db import connection, transaction
from django.http import HttpRequest
from ninja import NinjaAPI, Schema

bench_api = NinjaAPI(urls_namespace="bench", docs_url=None, openapi_url=None)
_table_ready = False


class BareIn(Schema):
    email: str
    first_name: str = ""


def _ensure_table() -> None:
    global _table_ready
    if not _table_ready:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS bench_bare_insert "
                "(id INTEGER PRIMARY KEY "
                + (
                    "AUTOINCREMENT"
                    if connection.vendor == "sqlite"
                    else "GENERATED ALWAYS AS IDENTITY"
                )
                + ", email VARCHAR(254), first_name VARCHAR(150))"
            )
        _table_ready = True


@bench_api.post("/bare", auth=None)
def bare_insert(request: HttpRequest, payload: BareIn) -> dict[str, int]:
    _ensure_table()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_bare_insert (email, first_name) VALUES (%s, %s)",
            [payload.email, payload.first_name],
        )
        return {"id": int(cursor.lastrowid or 0)}
