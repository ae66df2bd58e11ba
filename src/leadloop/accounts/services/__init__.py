"""Users, teams, partners and API keys."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from axes.utils import reset
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import (
    ApiKey,
    AuditAction,
    AuditTarget,
    PartnerOrganization,
    Team,
    User,
)
from leadloop.accounts.permissions import Permission, can_manage_api_keys_of, require
from leadloop.core import ratelimit
from leadloop.errors import NotAllowed, NotFound, Throttled, ValidationFailed

KEY_PREFIX_LEN = 8
LAST_USED_GRANULARITY = dt.timedelta(minutes=1)


def hash_key(raw: str) -> str:
    """The stored form of a secret key: SHA-256 (long random keys need no salt)."""
    return hashlib.sha256(raw.encode()).hexdigest()


def new_secret(kind: str) -> tuple[str, str]:
    """A fresh secret `ll<kind>_<random>` and its lookup prefix."""
    raw = f"ll{kind}_{secrets.token_urlsafe(32)}"
    return raw, raw[: KEY_PREFIX_LEN + 4]


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    raw: str


API_KEY_NAME_MAX = 100


@transaction.atomic
def create_api_key(user: User, *, name: str, by: Actor) -> IssuedKey:
    """Give `user` a new API key; the raw key is returned once and only its hash is stored.

    A user makes keys for themselves; an admin (or the operator's CLI) for anyone active.
    """
    if not can_manage_api_keys_of(by, user):
        raise NotAllowed(_("You can manage your own API keys only."))
    if not user.is_active:
        raise ValidationFailed(
            _("Inactive users cannot have API keys."),
            errors={"user": [_("This user is inactive.")]},
        )
    clean = " ".join(str(name or "").split())
    if not clean or len(clean) > API_KEY_NAME_MAX or "\x00" in clean:
        raise ValidationFailed(
            _("Give the key a name of at most %(limit)d characters.") % {"limit": API_KEY_NAME_MAX},
            errors={
                "name": [_("Required, at most %(limit)d characters.") % {"limit": API_KEY_NAME_MAX}]
            },
        )
    raw, prefix = new_secret("u")
    key = ApiKey.objects.create(user=user, name=clean, prefix=prefix, key_hash=hash_key(raw))
    _audit_key(key, action=AuditAction.API_KEY_CREATED, by=by)
    return IssuedKey(key=key, raw=raw)


def _audit_key(key: ApiKey, *, action: str, by: Actor) -> None:
    # The prefix identifies the key to its owner without being usable; the key never is logged.
    record_audit(
        actor=by,
        action=action,
        target_type=AuditTarget.API_KEY,
        target_id=key.pk,
        target_label=f"{key.prefix}… ({key.user.username})",
        data={"name": key.name, "user": key.user_id},
    )


def issue_api_key(user: User, *, name: str = "default") -> IssuedKey:
    """An API key for `user` issued by the operator (createuser --api-key, tests)."""
    return create_api_key(user, name=name, by=SYSTEM)


@transaction.atomic
def revoke_api_key(key: ApiKey, *, by: Actor) -> ApiKey:
    """Stop a key from working at once, keeping the row (who had it, when it was last used).

    Its owner or an admin may revoke it; revoking a revoked key changes nothing.
    """
    locked = ApiKey.objects.select_for_update().select_related("user").get(pk=key.pk)
    if not can_manage_api_keys_of(by, locked.user):
        raise NotAllowed(_("You can manage your own API keys only."))
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        _audit_key(locked, action=AuditAction.API_KEY_REVOKED, by=by)
    return locked


def authenticate_api_key(raw: str) -> User | None:
    """The active user an API key belongs to, or None for an unknown or revoked key."""
    if not raw.startswith("llu_"):
        return None
    key = (
        ApiKey.objects.select_related("user", "user__team", "user__partner")
        .filter(key_hash=hash_key(raw), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if key is None:
        return None
    now = timezone.now()
    # Stamping every request would turn each API read into a write; once a minute is enough.
    if key.last_used_at is None or (now - key.last_used_at) > LAST_USED_GRANULARITY:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.user


def set_user_language(user: User, *, language: str) -> None:
    """Remember the language a user chose, so every page and e-mail uses it."""
    if language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationFailed(
            _("Unknown language."), errors={"language": [_("Unknown language.")]}
        )
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])


def get_or_create_team(*, name: str, manager: User | None = None) -> Team:
    """The team called `name`, created when missing."""
    team, _created = Team.objects.get_or_create(name=name, defaults={"manager": manager})
    if manager is not None and team.manager_id != manager.pk:
        team.manager = manager
        team.save(update_fields=["manager"])
    return team


def get_or_create_partner(*, name: str) -> PartnerOrganization:
    """The partner organisation called `name`, created when missing."""
    partner, _created = PartnerOrganization.objects.get_or_create(name=name)
    return partner


def get_team_by_name(name: str) -> Team:
    """The team called `name`; NotFound otherwise."""
    team = Team.objects.filter(name=name).first()
    if team is None:
        raise NotFound(_("No team called %(name)r.") % {"name": name})
    return team


# --- Guessing: wrong keys and wrong passwords ------------------------------------------------


def _key_failures(ip: str) -> ratelimit.Limit:
    return ratelimit.Limit(
        f"keyfail:{ip}",
        allowed=settings.LEADLOOP_KEY_FAILURE_LIMIT,
        window=settings.LEADLOOP_KEY_FAILURE_WINDOW_SECONDS,
    )


def note_key_failure(*, ip: str) -> None:
    """Count a wrong API or source key sent from `ip`; past LEADLOOP_KEY_FAILURE_LIMIT in the
    window, raise Throttled (429) instead of letting the caller answer 401.

    Only failures are counted, so a right key costs nothing extra and still works from an
    address that also sent wrong ones (a colleague behind the same NAT). Blocking it would
    protect nothing: a key has 256 random bits, and guessing is what gets slow and loud.
    """
    exceeded = ratelimit.hit(_key_failures(ip))
    if exceeded is not None:
        raise Throttled(
            _("Too many wrong keys from this address. Try again in %(s)d seconds.")
            % {"s": exceeded.retry_after},
            retry_after=exceeded.retry_after,
        )


def unlock(*, by: Actor, username: str = "", ip: str = "") -> int:
    """Lift a login lockout of an account or an address, and the address's wrong-key block.

    Admins only (and the CLI). Returns how many failure records were removed.
    """
    require(by, Permission.UNLOCK_LOGINS)
    if not (username or ip):
        raise ValidationFailed(
            _("Say which user or address to unlock."), errors={"username": [_("Required.")]}
        )
    removed = 0
    if username:
        removed += reset(username=username)
    if ip:
        removed += reset(ip=ip)
        removed += ratelimit.clear(_key_failures(ip).key)
    return removed


# Administration of users, teams and partners lives in `users.py` and `teams.py`; imported
# last because `users.py` calls `create_user` above.
from leadloop.accounts.defaults import change_defaults as change_defaults  # noqa: E402
from leadloop.accounts.services.teams import change_partner as change_partner  # noqa: E402
from leadloop.accounts.services.teams import change_team as change_team  # noqa: E402
from leadloop.accounts.services.teams import create_partner as create_partner  # noqa: E402
from leadloop.accounts.services.teams import create_team as create_team  # noqa: E402
from leadloop.accounts.services.users import add_user as add_user  # noqa: E402
from leadloop.accounts.services.users import change_user as change_user  # noqa: E402
from leadloop.accounts.services.users import (  # noqa: E402
    create_password_link as create_password_link,
)
from leadloop.accounts.services.users import create_user as create_user  # noqa: E402
from leadloop.accounts.services.users import (  # noqa: E402
    set_password_from_link as set_password_from_link,
)
from leadloop.accounts.services.users import set_user_active as set_user_active  # noqa: E402
