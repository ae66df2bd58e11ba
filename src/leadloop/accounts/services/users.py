"""User administration by an admin: add, change, deactivate, and one-time set-password links.

Every verb takes the actor as `by=`, refuses anyone without `MANAGE_USERS`, and writes an audit
event in the same transaction. An admin can never leave the deployment without an active admin.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from django.utils.translation import gettext as _

from leadloop.accounts.actors import SYSTEM, Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.models import AuditAction, AuditTarget, PartnerOrganization, Role, Team, User
from leadloop.accounts.permissions import Permission, require
from leadloop.accounts.selectors import get_defaults
from leadloop.errors import NotFound, ValidationFailed

# The fields `change_user` may set; anything else stays with the CLI or the user themself.
CHANGEABLE = (
    "first_name",
    "last_name",
    "email",
    "role",
    "team",
    "partner",
    "language",
    "time_zone",
)


@dataclass(frozen=True)
class PasswordLink:
    """The parts of a one-time set-password link; the view builds the URL from them."""

    user: User
    uidb64: str
    token: str


@transaction.atomic
def create_user(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    partner: PartnerOrganization | None = None,
    language: str = "",
    time_zone: str | None = None,
    by: Actor = SYSTEM,
) -> User:
    """Create a user with a role; a partner user must belong to a partner organisation.

    Without a time zone the user gets the deployment's; without a language, their browser's.
    """
    time_zone = time_zone or get_defaults().time_zone
    if role not in Role.values:
        raise ValidationFailed(
            _("Unknown role %(role)r.") % {"role": role},
            errors={
                "role": [_("Choose one of: %(choices)s.") % {"choices": ", ".join(Role.values)}]
            },
        )
    if role == Role.PARTNER and partner is None:
        raise ValidationFailed(
            _("A partner user needs a partner organisation."),
            errors={"partner": [_("Required for the partner role.")]},
        )
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(
            _("Unknown time zone %(zone)r.") % {"zone": time_zone},
            errors={"time_zone": [_("Use an IANA zone such as Europe/Amsterdam.")]},
        ) from exc
    if User.objects.filter(username=username).exists():
        raise ValidationFailed(
            _("User %(name)r exists already.") % {"name": username},
            errors={"username": [_("Already taken.")]},
        )
    user = User(
        username=username,
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
        team=team,
        partner=partner,
        language=language,
        time_zone=time_zone,
        is_staff=role == Role.ADMIN,
        is_superuser=role == Role.ADMIN,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record_audit(
        actor=by,
        action=AuditAction.USER_CREATED,
        target_type=AuditTarget.USER,
        target_id=user.pk,
        target_label=user.username,
        data={"role": role, "team": user.team_id, "partner": user.partner_id},
    )
    return user


def _check_profile(
    *, role: str, partner: PartnerOrganization | None, language: str, time_zone: str
) -> None:
    if role not in Role.values:
        raise ValidationFailed(_("Unknown role."), errors={"role": [_("Unknown role.")]})
    if role == Role.PARTNER and partner is None:
        raise ValidationFailed(
            _("A partner user needs a partner organisation."),
            errors={"partner": [_("Required for the partner role.")]},
        )
    if language and language not in {code for code, _name in settings.LANGUAGES}:
        raise ValidationFailed(
            _("Unknown language."), errors={"language": [_("Unknown language.")]}
        )
    try:
        zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationFailed(
            _("Unknown time zone %(zone)r.") % {"zone": time_zone},
            errors={"time_zone": [_("Use an IANA zone such as Europe/Amsterdam.")]},
        ) from exc


def _keep_an_admin(user: User) -> None:
    """Refuse when `user` is the last active admin (about to be demoted or deactivated)."""
    if user.role != Role.ADMIN or not user.is_active:
        return
    others = User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=user.pk)
    if not others.select_for_update().exists():
        raise ValidationFailed(
            _("%(name)s is the last active admin: make someone else admin first.")
            % {"name": user.username},
            errors={"role": [_("The deployment needs at least one active admin.")]},
        )


def add_user(
    *,
    by: Actor,
    username: str,
    role: str,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    team: Team | None = None,
    partner: PartnerOrganization | None = None,
    language: str | None = None,
    time_zone: str | None = None,
) -> User:
    """An admin adds a user without a password; a set-password link lets them in.

    Without a language or time zone the user gets the deployment's defaults.
    """
    require(by, Permission.MANAGE_USERS)
    defaults = get_defaults()
    language = defaults.language if language is None else language
    time_zone = time_zone or defaults.time_zone
    _check_profile(role=role, partner=partner, language=language, time_zone=time_zone)
    return create_user(
        username=username.strip(),
        role=role,
        email=email,
        first_name=first_name,
        last_name=last_name,
        team=team,
        partner=partner,
        language=language,
        time_zone=time_zone,
        by=by,
    )


@transaction.atomic
def change_user(user: User, *, by: Actor, **changes: Any) -> User:
    """Set some of CHANGEABLE on `user`; audited with the names of the fields that changed."""
    require(by, Permission.MANAGE_USERS)
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValidationFailed(
            _("These fields cannot be changed here: %(f)s") % {"f": ", ".join(sorted(unknown))}
        )
    locked = User.objects.select_for_update().get(pk=user.pk)
    _check_profile(
        role=changes.get("role", locked.role),
        partner=changes.get("partner", locked.partner),
        language=changes.get("language", locked.language),
        time_zone=changes.get("time_zone", locked.time_zone),
    )
    if changes.get("role", locked.role) != Role.ADMIN:
        _keep_an_admin(locked)
    changed = [name for name, value in changes.items() if getattr(locked, name) != value]
    if not changed:
        return locked
    for name in changed:
        setattr(locked, name, changes[name])
    extra = []
    if "role" in changed:
        # Django's own admin flags follow the role, as in `create_user`.
        locked.is_staff = locked.is_superuser = locked.role == Role.ADMIN
        extra = ["is_staff", "is_superuser"]
    locked.save(update_fields=[*changed, *extra])
    record_audit(
        actor=by,
        action=AuditAction.USER_CHANGED,
        target_type=AuditTarget.USER,
        target_id=locked.pk,
        target_label=locked.username,
        data={"fields": sorted(changed), "role": locked.role},
    )
    return locked


@transaction.atomic
def set_user_active(user: User, *, active: bool, by: Actor) -> User:
    """Deactivate (cannot log in, keys stop working) or reactivate a user; the last admin stays."""
    require(by, Permission.MANAGE_USERS)
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.is_active == active:
        return locked
    if not active:
        _keep_an_admin(locked)
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    record_audit(
        actor=by,
        action=AuditAction.USER_CHANGED,
        target_type=AuditTarget.USER,
        target_id=locked.pk,
        target_label=locked.username,
        data={"fields": ["is_active"], "is_active": active},
    )
    return locked


@transaction.atomic
def create_password_link(user: User, *, by: Actor) -> PasswordLink:
    """A one-time link for `user` to set a password (a new user, or a reset).

    Django's token generator signs the user's password hash and last login: once the password
    is set the token no longer matches, and it expires after PASSWORD_RESET_TIMEOUT seconds.
    """
    require(by, Permission.MANAGE_USERS)
    if not user.is_active:
        raise ValidationFailed(
            _("Reactivate the user first."), errors={"user": [_("This user is inactive.")]}
        )
    record_audit(
        actor=by,
        action=AuditAction.USER_CHANGED,
        target_type=AuditTarget.USER,
        target_id=user.pk,
        target_label=user.username,
        data={"fields": [], "password_link": True},
    )
    return PasswordLink(
        user=user,
        uidb64=urlsafe_base64_encode(force_bytes(user.pk)),
        token=default_token_generator.make_token(user),
    )


def user_for_link(uidb64: str, token: str) -> User:
    """The active user a set-password link is for; NotFound for a used, expired or forged one."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (ValueError, TypeError, OverflowError):
        pk = None
    user = User.objects.filter(pk=pk, is_active=True).first() if pk is not None else None
    if user is None or not default_token_generator.check_token(user, token):
        raise NotFound(_("This link has been used or has expired. Ask an admin for a new one."))
    return user


@transaction.atomic
def set_password_from_link(*, uidb64: str, token: str, password: str) -> User:
    """Set the password through a one-time link; the link stops working once it is used."""
    user = user_for_link(uidb64, token)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationFailed(
            _("Choose another password."), errors={"password": list(exc.messages)}
        ) from exc
    user.set_password(password)
    user.save(update_fields=["password"])
    record_audit(
        actor=user,
        action=AuditAction.USER_CHANGED,
        target_type=AuditTarget.USER,
        target_id=user.pk,
        target_label=user.username,
        data={"fields": ["password"]},
    )
    return user
