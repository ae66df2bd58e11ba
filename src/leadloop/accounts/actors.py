"""Who does something: a logged-in user, the system itself, or a sender holding a source key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from django.http import HttpRequest

    from leadloop.accounts.models import User


@dataclass(frozen=True)
class SystemActor:
    """Leadloop itself (the pipeline, a scheduled job, the demo loader)."""

    label: str = "system"


@dataclass(frozen=True)
class SourceActor:
    """A sender authenticated by a source key: it may only submit leads to that source."""

    source_id: int
    source_name: str


SYSTEM = SystemActor()
# The operator at the command line (`leadloop sources`, `leadloop createuser`): the system's
# rights, named apart in the audit log.
CLI = SystemActor(label="cli")

Actor = Union["User", SystemActor, SourceActor]


def actor_from_request(request: HttpRequest) -> Actor:
    """The actor behind a request: the API's authenticated key or session, else the logged-in user.

    It lives here, below every app, so an app's API and views need not import the NinjaAPI that
    mounts them (which imports every app's router back).
    """
    auth: Any = getattr(request, "auth", None)
    return auth if auth is not None else request.user  # type: ignore[return-value]
