"""Organisations and their parent/child tree."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from leadloop.accounts.actors import Actor
from leadloop.accounts.permissions import Permission, require
from leadloop.errors import ValidationFailed
from leadloop.leads.models import Organization
from leadloop.leads.services.validation import clean_text


@transaction.atomic
def create_organization(
    *, name: str, by: Actor, parent: Organization | None = None, **fields: Any
) -> Organization:
    """Create an organisation, optionally as a branch of `parent`."""
    require(by, Permission.STAFF_WORK)
    name = clean_text(name)
    if not name:
        raise ValidationFailed(_("A name is required."), errors={"name": [_("Required.")]})
    org = Organization.objects.create(name=name[:255], parent=parent, **fields)
    org.path = f"{parent.path if parent else '/'}{org.pk}/"
    org.save(update_fields=["path"])
    return org


@transaction.atomic
def move_organization(org: Organization, *, parent: Organization | None, by: Actor) -> Organization:
    """Hang an organisation (and its whole subtree) under another parent, refusing cycles.

    Restructuring a holding is for marketing and admins. Both rows are locked and re-read first,
    so two concurrent moves cannot weave a cycle out of stale paths.
    """
    require(by, Permission.RESTRUCTURE_ORGANIZATIONS)
    ids = [org.pk] + ([parent.pk] if parent is not None else [])
    locked = {o.pk: o for o in Organization.objects.select_for_update().filter(pk__in=ids)}
    org = locked[org.pk]
    parent = locked[parent.pk] if parent is not None else None
    if parent is not None and parent.path.startswith(org.path):
        raise ValidationFailed(
            _("An organisation cannot be placed under itself or its own branch."),
            errors={"parent": [_("Would create a cycle.")]},
        )
    old_path = org.path
    new_path = f"{parent.path if parent else '/'}{org.pk}/"
    for node in Organization.objects.select_for_update().filter(path__startswith=old_path):
        node.path = new_path + node.path[len(old_path) :]
        if node.pk == org.pk:
            node.parent = parent
        node.save(update_fields=["path", "parent"])
    org.refresh_from_db()
    return org
