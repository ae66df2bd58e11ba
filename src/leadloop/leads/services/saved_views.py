"""Named lead-list filters a user keeps."""

from __future__ import annotations

from django.utils.translation import gettext as _

from leadloop.accounts.models import User
from leadloop.errors import NotFound, ValidationFailed
from leadloop.leads.models import SavedView
from leadloop.leads.services.validation import clean_text


def save_view(*, user: User, name: str, query: str) -> SavedView:
    """Keep the current lead-list filters under a name (replacing a view of the same name)."""
    name = clean_text(name)
    if not name:
        raise ValidationFailed(_("Give the view a name."), errors={"name": [_("Required.")]})
    view, _created = SavedView.objects.update_or_create(
        user=user, name=name[:100], defaults={"query": query[:2000]}
    )
    return view


def delete_view(*, user: User, view_id: int) -> None:
    """Delete one of the user's own saved views."""
    deleted, _counts = SavedView.objects.filter(user=user, pk=view_id).delete()
    if not deleted:
        raise NotFound(_("No such saved view."))
