"""Who may change what: the rights of each role that are not about which leads they see.

Which leads an actor may see (and so change at all) is `selectors.lead_visibility`; which related
records they may link a lead to is the leads app's `list_linkable_*` selectors. This module says
which of a visible lead's fields a role may write. The UI form, the API and the CLI all ask it.
"""

from __future__ import annotations

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import Role, User

# A partner user works the leads routed to their organisation: they keep the person's contact
# details and the deal's numbers up to date. Where the lead came from (source, campaign, UTM,
# consent record), which company record it belongs to, who owns it and how it is graded are the
# company's own data: a partner reads them but does not change them.
PARTNER_LEAD_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "phone",
        "job_title",
        "language",
        "company_name",
        "street",
        "house_number",
        "postal_code",
        "city",
        "region",
        "country",
        "potential_revenue",
        "probability",
        "order_value",
        "currency",
        "next_follow_up_at",
    }
)


def writable_lead_fields(actor: Actor) -> frozenset[str] | None:
    """The lead input fields `actor` may set on a lead it can see; None: every field.

    Staff (and the system, and a source key through its mapping) may set every field; a partner
    user only `PARTNER_LEAD_FIELDS`; an inactive user none.
    """
    if not isinstance(actor, User):
        return None
    if not actor.is_active:
        return frozenset()
    if actor.role == Role.PARTNER:
        return PARTNER_LEAD_FIELDS
    return None


def can_manage_api_keys_of(actor: Actor, user: User) -> bool:
    """Whether `actor` may list, create and revoke `user`'s API keys: their own, or an admin
    (and the operator's CLI) anyone's."""
    if isinstance(actor, SystemActor):
        return True
    if not isinstance(actor, User) or not actor.is_active:
        return False
    return actor.pk == user.pk or actor.role == Role.ADMIN
