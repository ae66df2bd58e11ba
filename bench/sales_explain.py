"""Bench helper, run inside Django on a sales bench database: where a page's time goes.

Reads [{"path": ..., "username": ..., "api": bool}] on stdin; for each, renders the page twice
with Django's test client (logged in, or with an API key for the API) and, on the second
(warm) render, captures every statement with its time. Prints per page: the total, the
statement count and time, and the slowest statements with their plans (EXPLAIN QUERY PLAN on
SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL).
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any

import django

SLOWEST = 4


def profile(path: str, username: str, api: bool) -> dict[str, Any]:
    from django.db import connection
    from django.test import Client

    from leadloop.accounts import services as accounts
    from leadloop.accounts.models import User

    user = User.objects.get(username=username)
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {}
    if api:
        headers["X-API-Key"] = accounts.issue_api_key(user, name="bench explain").raw
    else:
        client.force_login(user)
    client.get(path, headers=headers)
    queries: list[dict[str, Any]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            ms = (time.perf_counter() - t0) * 1000
            cursor = context["cursor"].cursor
            text = sql if many else connection.ops.last_executed_query(cursor, sql, params)
            # The plan is asked for with the statement's own bound parameters: on SQLite the
            # text with the values filled in can use partial indexes the real statement cannot.
            queries.append({"ms": round(ms, 2), "sql": text, "_bound": (sql, params, many)})

    with connection.execute_wrapper(timed):
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        total = (time.perf_counter() - began) * 1000
    slowest = sorted(queries, key=lambda q: -q["ms"])[:SLOWEST]
    explained = {id(query) for query in slowest}
    for query in queries:
        sql, params, many = query.pop("_bound")
        if id(query) not in explained or many or not sql.lstrip().upper().startswith("SELECT"):
            continue
        explain = (
            "EXPLAIN (ANALYZE, BUFFERS) "
            if connection.vendor == "postgresql"
            else "EXPLAIN QUERY PLAN "
        )
        with connection.cursor() as cursor:
            cursor.execute(explain + sql, params)
            query["plan"] = [" | ".join(str(c) for c in row) for row in cursor.fetchall()]
    return {
        "path": path,
        "username": username,
        "status": response.status_code,
        "total_ms": round(total, 1),
        "statements": len(queries),
        "statements_ms": round(sum(q["ms"] for q in queries), 1),
        "slowest": slowest,
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    pages = json.load(sys.stdin)
    json.dump([profile(p["path"], p["username"], p["api"]) for p in pages], sys.stdout)


if __name__ == "__main__":
    main()
