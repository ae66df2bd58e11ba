"""Bench helper, run inside Django: the query plan of each list shape's main SELECT.

Reads {"shapes": [{name, actor, query, cursor}], "users": {role: username}} on stdin and prints the
plans as JSON: EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL.
"""

from __future__ import annotations

import json
import os
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leadloop.settings")
    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from leadloop.accounts.models import User
    from leadloop.leads import selectors

    spec = json.load(sys.stdin)
    result = []
    for shape in spec["shapes"]:
        user = User.objects.get(username=spec["users"][shape["actor"]])
        query = shape["query"]
        status = query.get("status")
        filters = selectors.LeadFilters(
            status=(status,) if status else (),
            team=query.get("team"),
            source=query.get("source"),
            q=query.get("q", ""),
            sort=query.get("sort", selectors.DEFAULT_SORT),
        )
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            page = selectors.list_leads(user, filters, cursor=shape.get("cursor"))
            took = time.perf_counter() - began
        sql = next(q["sql"] for q in captured.captured_queries if "leads_lead" in q["sql"])
        if connection.vendor == "postgresql":
            explain = "EXPLAIN (ANALYZE, BUFFERS) "
        else:
            explain = "EXPLAIN QUERY PLAN "
        with connection.cursor() as cursor:
            cursor.execute(explain + sql)
            rows = cursor.fetchall()
        plan = [" | ".join(str(c) for c in row) for row in rows]
        result.append(
            {
                "name": shape["name"],
                "rows": len(page.items),
                "selector_ms": round(took * 1000, 1),
                "sql": sql,
                "plan": plan,
            }
        )
    json.dump(result, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
