"""Health for a load balancer or a process supervisor: `/healthz` and `/readyz`.

- `GET /healthz` (liveness): the process answers. No database: a database that is down is no
  reason to restart the web server.
- `GET /readyz` (readiness): this process can serve now. The database answers, every migration
  this code knows is applied, and the task queue (Redis, with `TASKS_BACKEND=rq`) answers. A
  balancer sends no requests to a process that is not ready; a new release is not ready until
  its migrations ran. 200 with the checks, or 503 as an RFC 9457 problem with the checks.

Answered by a middleware before all others but the content security policy's: no session, no
login, no audit entry, no rate limit, no host check (a balancer asks by address) and no HTTPS
redirect (it asks in plain HTTP on the private network). The answers name no host, no error
text and no version.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connections
from django.http import HttpRequest, HttpResponse

from leadloop.problems import problem_response

logger = logging.getLogger(__name__)

LIVE_PATH = "/healthz"
READY_PATH = "/readyz"
# Seconds a readiness check waits for Redis: a balancer asks every few seconds and gives up on
# its own after a few more.
CHECK_TIMEOUT = 2.0

OK = "ok"
FAILED = "failed"
PENDING = "pending"  # migrations this code needs are not applied yet

# Migrations do not come undone under a running process: once this process saw them all applied
# it does not plan them again on every request (planning reads every migration file's graph).
_migrated: set[str] = set()


def check_database(alias: str = "default") -> str:
    try:
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("readiness: the database did not answer", exc_info=True)
        connections[alias].close_if_unusable_or_obsolete()
        return FAILED
    return OK


def check_migrations(alias: str = "default") -> str:
    if alias in _migrated:
        return OK
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connections[alias])
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        logger.warning("readiness: the migrations could not be read", exc_info=True)
        return FAILED
    if plan:
        return PENDING
    _migrated.add(alias)
    return OK


def check_tasks() -> str:
    """The task queue: Redis for the RQ backend; the database backend's queue is the database."""
    if settings.TASKS_BACKEND != "rq":
        return OK
    import redis

    try:
        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_timeout=CHECK_TIMEOUT,
            socket_connect_timeout=CHECK_TIMEOUT,
        )
        try:
            client.ping()
        finally:
            client.close()
    except redis.RedisError:
        logger.warning("readiness: Redis did not answer", exc_info=True)
        return FAILED
    return OK


def readiness() -> dict[str, str]:
    database = check_database()
    return {
        "database": database,
        "migrations": check_migrations() if database == OK else FAILED,
        "tasks": check_tasks(),
    }


def _json(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body), content_type="application/json")


class HealthMiddleware:
    """Answers `/healthz` and `/readyz` before any other middleware sees the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path not in (LIVE_PATH, READY_PATH):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = problem_response(
                request, status=405, title="Method not allowed", headers={"Allow": "GET, HEAD"}
            )
        elif path == LIVE_PATH:
            response = _json({"status": OK})
        else:
            checks = readiness()
            if all(state == OK for state in checks.values()):
                response = _json({"status": "ready", "checks": checks})
            else:
                response = problem_response(
                    request,
                    status=503,
                    title="Not ready",
                    detail="Not ready: "
                    + ", ".join(f"{name} {state}" for name, state in checks.items() if state != OK)
                    + ".",
                    kind="notready",
                    extra={"checks": checks},
                    headers={"Retry-After": "5"},
                )
        response["Cache-Control"] = "no-store"
        return response
