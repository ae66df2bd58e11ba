"""Teams and partner organisations as an admin sets them up on the settings pages.

Admins only (`MANAGE_USERS`); each change writes a `setting_changed` audit event about the
team or partner organisation, with what changed (names and ids, no personal data).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.audit import record_audit
from leadloop.accounts.lead_fields import clean_field_keys, default_visible_fields
from leadloop.accounts.models import AuditAction, AuditTarget, PartnerOrganization, Role, Team, User
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed

NAME_MAX = 200
MANAGER_ROLES = frozenset({Role.SALES_MANAGER, Role.ADMIN})


def _clean_name(name: str, *, model: type[Team] | type[PartnerOrganization], pk: int | None) -> str:
    clean = " ".join(str(name or "").split())
    if not clean or len(clean) > NAME_MAX:
        raise ValidationFailed(
            _("Give a name of at most %(limit)d characters.") % {"limit": NAME_MAX},
            errors={"name": [_("Required, at most %(limit)d characters.") % {"limit": NAME_MAX}]},
        )
    same = model.objects.filter(name__iexact=clean)
    if pk is not None:
        same = same.exclude(pk=pk)
    if same.exists():
        raise ValidationFailed(
            _("%(name)s exists already.") % {"name": clean}, errors={"name": [_("Already taken.")]}
        )
    return clean


def _check_manager(manager: User | None) -> None:
    if manager is not None and (manager.role not in MANAGER_ROLES or not manager.is_active):
        raise ValidationFailed(
            _("A team's manager is an active sales manager or admin."),
            errors={"manager": [_("Choose an active sales manager or admin.")]},
        )


def _audit(target: Team | PartnerOrganization, *, by: Actor, data: dict[str, object]) -> None:
    record_audit(
        actor=by,
        action=AuditAction.SETTING_CHANGED,
        target_type=AuditTarget.TEAM if isinstance(target, Team) else AuditTarget.PARTNER,
        target_id=target.pk,
        target_label=target.name,
        data=data,
    )


@transaction.atomic
def create_team(*, by: Actor, name: str, manager: User | None = None) -> Team:
    """A new sales team, optionally with its manager."""
    require(by, Permission.MANAGE_USERS)
    _check_manager(manager)
    team = Team.objects.create(name=_clean_name(name, model=Team, pk=None), manager=manager)
    _audit(team, by=by, data={"change": "created", "manager": team.manager_id})
    return team


@transaction.atomic
def change_team(
    team: Team, *, by: Actor, name: str, manager: User | None, members: list[User]
) -> Team:
    """Rename a team, set its manager, and make `members` exactly its members.

    A user taken into this team leaves their old one; a user left out leaves this team.
    Partner users belong to no team.
    """
    require(by, Permission.MANAGE_USERS)
    locked = Team.objects.select_for_update().get(pk=team.pk)
    clean = _clean_name(name, model=Team, pk=locked.pk)
    _check_manager(manager)
    if any(member.role == Role.PARTNER for member in members):
        raise ValidationFailed(
            _("Partner users belong to no team."),
            errors={"members": [_("Partner users belong to no team.")]},
        )
    wanted = {member.pk for member in members}
    before = set(User.objects.filter(team=locked).values_list("pk", flat=True))
    changed: list[str] = []
    if clean != locked.name:
        changed.append("name")
    if (manager.pk if manager else None) != locked.manager_id:
        changed.append("manager")
    locked.name, locked.manager = clean, manager
    locked.save(update_fields=["name", "manager"])
    added, removed = sorted(wanted - before), sorted(before - wanted)
    User.objects.filter(pk__in=added).update(team=locked)
    User.objects.filter(pk__in=removed).update(team=None)
    if added or removed:
        changed.append("members")
    if changed:
        _audit(
            locked,
            by=by,
            data={
                "change": "changed",
                "fields": changed,
                "added": added,
                "removed": removed,
                "manager": locked.manager_id,
            },
        )
    return locked


@transaction.atomic
def create_partner(
    *, by: Actor, name: str, visible_fields: Iterable[str] | None = None
) -> PartnerOrganization:
    """A new partner organisation (leads can be routed to it, its users log in); its users see
    `visible_fields` of their leads, the default list when not given."""
    require(by, Permission.MANAGE_USERS)
    fields = (
        default_visible_fields() if visible_fields is None else clean_field_keys(visible_fields)
    )
    partner = PartnerOrganization.objects.create(
        name=_clean_name(name, model=PartnerOrganization, pk=None), visible_fields=fields
    )
    _audit(partner, by=by, data={"change": "created", "visible_fields": fields})
    return partner


@transaction.atomic
def change_partner(
    partner: PartnerOrganization,
    *,
    by: Actor,
    name: str,
    is_active: bool,
    visible_fields: Iterable[str] | None = None,
) -> PartnerOrganization:
    """Rename a partner organisation, (de)activate it (an inactive one gets no new leads), or
    set which lead fields its users see (`lead_fields` keys; None leaves the list as it is).

    An unknown key is refused (ValidationFailed) before anything changes. The audit entry names
    the keys added and removed.
    """
    require(by, Permission.MANAGE_USERS)
    locked = PartnerOrganization.objects.select_for_update().get(pk=partner.pk)
    clean = _clean_name(name, model=PartnerOrganization, pk=locked.pk)
    fields = locked.visible_fields if visible_fields is None else clean_field_keys(visible_fields)
    wanted = (("name", clean), ("is_active", is_active), ("visible_fields", fields))
    changed = [f for f, v in wanted if getattr(locked, f) != v]
    if not changed:
        return locked
    before = set(locked.visible_fields or ())
    locked.name, locked.is_active, locked.visible_fields = clean, is_active, fields
    locked.save(update_fields=changed)
    data: dict[str, object] = {"change": "changed", "fields": changed, "is_active": is_active}
    if "visible_fields" in changed:
        data.update(
            visible_fields=fields,
            shown=sorted(set(fields) - before),
            hidden=sorted(before - set(fields)),
        )
    _audit(locked, by=by, data=data)
    return locked
