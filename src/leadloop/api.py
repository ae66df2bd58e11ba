"""The REST API at /api/v1: one NinjaAPI, each app's router mounted, errors as problem details."""

from __future__ import annotations

import contextlib
import logging
import zoneinfo

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError
from ninja.operation import Operation
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth
from ninja.utils import check_csrf

from leadloop.accounts import services as accounts_services
from leadloop.accounts.actors import Actor, SourceActor
from leadloop.core.client_ip import client_ip
from leadloop.core.unavailable import is_unavailable, unavailable_problem
from leadloop.errors import LeadloopError, Throttled
from leadloop.leads import services as leads_services
from leadloop.problems import problem_response

logger = logging.getLogger(__name__)


def _actor_for_key(request: HttpRequest, raw: str) -> Actor | None:
    """The actor a key stands for; a wrong key counts against the caller's address, and past
    LEADLOOP_KEY_FAILURE_LIMIT wrong keys the answer is 429 instead of 401 (Throttled)."""
    actor = _actor_for_valid_key(raw)
    if actor is None:
        accounts_services.note_key_failure(ip=client_ip(request))
    return actor


def _actor_for_valid_key(raw: str) -> Actor | None:
    user = accounts_services.authenticate_api_key(raw)
    if user is not None:
        # The session middleware sets the zone for logged-in users; a key's owner gets theirs here,
        # so date filters mean the caller's days. The middleware resets it after the response.
        with contextlib.suppress(zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo(user.time_zone))
        return user
    source = leads_services.resolve_source_key(raw)
    if source is None:
        return None
    if not source.has_active_key or not source.is_active:
        raise AuthenticationError(message="This source key has been revoked.")
    return SourceActor(source_id=source.pk, source_name=source.name)


class ApiKeyAuth(APIKeyHeader):
    """`X-API-Key: <key>`: a user's key acts as that user; a source key may only submit leads."""

    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        return _actor_for_key(request, key) if key else None


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <key>`, the same keys as X-API-Key."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        return _actor_for_key(request, token) if token else None


class CsrfFailed(Exception):
    """A logged-in browser's write without a valid CSRF token."""


class BrowserSessionAuth(SessionAuth):
    """The UI's session cookie; its writes must carry the CSRF token.

    Ninja's own session auth checks CSRF before it knows whether anyone is logged in, so a script
    without credentials got "CSRF check Failed" (403) instead of "log in" (401). Only a request
    that really carries a logged-in session is held to the token: the cookie is what a forged
    cross-site request would ride on, and a request without one has nothing to forge.
    """

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise CsrfFailed
        return request.COOKIES.get(self.param_name) or "session"


# Integrators generate clients from the OpenAPI document, and their methods are named after the
# operation ids, which django-ninja makes from "<module>_<function>". Modules move as the code is
# reorganised (issue 10); the published ids must not. Each endpoint keeps the id of the module it
# was first published from; an api package answers with its own name.
PUBLISHED_MODULES = {
    "leadloop.assessment.scoring.api": "leadloop.assessment.config_api",
    "leadloop.assessment.review.api": "leadloop.assessment.lead_api",
}


class LeadloopAPI(NinjaAPI):
    def get_openapi_operation_id(self, operation: Operation) -> str:
        module = operation.view_func.__module__
        if ".api." in module:
            module = module.split(".api.", 1)[0] + ".api"
        module = PUBLISHED_MODULES.get(module, module)
        return f"{module}_{operation.view_func.__name__}".replace(".", "_")


api = LeadloopAPI(
    title="Leadloop API",
    version="1",
    description=(
        "Every lead, from every channel, in one database. Authenticate with a session cookie "
        "(plus CSRF token), `X-API-Key`, or `Authorization: Bearer`. Errors are RFC 9457 "
        "problem documents with field-level messages in `errors`."
    ),
    urls_namespace="api",
    auth=[ApiKeyAuth(), BearerAuth(), BrowserSessionAuth()],
)


@api.exception_handler(LeadloopError)
def _domain_error(request: HttpRequest, exc: LeadloopError) -> HttpResponse:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Throttled) else None
    return problem_response(
        request,
        status=exc.status,
        title=exc.title,
        detail=exc.detail,
        errors=exc.errors,
        kind=type(exc).__name__.lower(),
        headers=headers,
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "payload")]
        location = [p for p in location if p not in ("query", "path")] or ["body"]
        message = error.get("msg", "Invalid value.")
        if error.get("type") == "extra_forbidden":
            message = "Unknown field."
        errors.setdefault(".".join(location), []).append(message)
    return problem_response(
        request,
        status=422,
        title="Validation failed",
        detail="Some fields are not valid.",
        errors=errors,
        kind="validationfailed",
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = str(exc.message) if getattr(exc, "message", None) else "Log in or send an API key."
    if detail == "Unauthorized":
        detail = "Log in or send an API key."
    return problem_response(
        request,
        status=401,
        title="Not authenticated",
        detail=detail,
        kind="notauthenticated",
        headers={"WWW-Authenticate": 'Bearer realm="leadloop"'},
    )


@api.exception_handler(CsrfFailed)
def _csrf_failed(request: HttpRequest, exc: CsrfFailed) -> HttpResponse:
    return problem_response(
        request,
        status=403,
        title="CSRF check failed",
        detail="A write with the session cookie needs the X-CSRFToken header (or send an API key).",
        kind="csrffailed",
    )


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: AuthorizationError) -> HttpResponse:
    return problem_response(request, status=403, title="Not allowed", kind="notallowed")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problem_response(request, status=exc.status_code, title=str(exc.message))


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem_response(request, status=404, title="Not found", kind="notfound")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return problem_response(
        request,
        status=413,
        title="Content too large",
        detail=f"The body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes.",
        kind="toolarge",
    )


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    if is_unavailable(exc):  # a full disk, a restarting server: 503 and Retry-After
        return unavailable_problem(request, exc)
    logger.error("api error path=%s", request.path, exc_info=exc)
    return problem_response(
        request, status=500, title="Internal error", detail="Something went wrong on our side."
    )


def _mount() -> None:
    from leadloop.accounts.api import api_keys
    from leadloop.accounts.api import router as accounts_router
    from leadloop.accounts.api import users as users_router
    from leadloop.accounts.audit_api import router as audit_router
    from leadloop.accounts.settings_api import defaults, partners, teams
    from leadloop.analytics.api import router as analytics_router
    from leadloop.analytics.api_alerts import router as analytics_alerts_router
    from leadloop.assessment.api import router as assessment_router
    from leadloop.distribution.api import router as distribution_router
    from leadloop.distribution.selling.api import router as selling_router
    from leadloop.intake.api import router as intake_router
    from leadloop.leads.api import campaigns, leads, lost_reasons, organizations, sources
    from leadloop.notifications.api import router as notifications_router
    from leadloop.nurture.calls.api import router as nurture_calls_router
    from leadloop.nurture.mail.api import router as nurture_mail_router
    from leadloop.nurture.surveys.api import router as nurture_survey_router
    from leadloop.nurture.workflows.api import router as nurture_workflow_router
    from leadloop.privacy.api import router as privacy_router
    from leadloop.sales.api import lead_router as sales_lead_router
    from leadloop.sales.api import sales_router
    from leadloop.webhooks.api import router as webhooks_router

    api.add_router("/me", accounts_router, tags=["me"])
    api.add_router("/api-keys", api_keys, tags=["api keys"])
    api.add_router("/users", users_router, tags=["users"])
    api.add_router("/teams", teams, tags=["teams"])
    api.add_router("/partners", partners, tags=["partners"])
    api.add_router("/defaults", defaults, tags=["defaults"])
    api.add_router("/lost-reasons", lost_reasons, tags=["lost reasons"])
    api.add_router("/leads", leads, tags=["leads"])
    api.add_router("/leads", sales_lead_router, tags=["follow-up"])
    api.add_router("/sales", sales_router, tags=["sales"])
    api.add_router("/nurture/mail", nurture_mail_router, tags=["nurture mail"])
    api.add_router("/nurture/surveys", nurture_survey_router, tags=["surveys"])
    api.add_router("/nurture/workflows", nurture_workflow_router, tags=["workflows"])
    api.add_router("/nurture/calls", nurture_calls_router, tags=["telemarketing"])
    api.add_router("/organizations", organizations, tags=["organizations"])
    api.add_router("/sources", sources, tags=["sources"])
    api.add_router("/campaigns", campaigns, tags=["campaigns"])
    api.add_router("/intake", intake_router, tags=["intake"])
    api.add_router("/distribution", distribution_router, tags=["distribution"])
    api.add_router("/selling", selling_router, tags=["selling"])
    api.add_router("/notifications", notifications_router, tags=["notifications"])
    api.add_router("/webhooks", webhooks_router, tags=["webhooks"])
    api.add_router("/assessment", assessment_router, tags=["assessment"])
    api.add_router("/privacy", privacy_router, tags=["privacy"])
    api.add_router("/audit", audit_router, tags=["audit"])
    api.add_router("/analytics/alerts", analytics_alerts_router, tags=["analytics"])
    api.add_router("/analytics", analytics_router, tags=["analytics"])


_mount()
