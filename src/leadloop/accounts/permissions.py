"""Who may change what: the rights of each role that are not about which leads they see.

Which leads an actor may see (and so change at all) is `selectors.lead_visibility`; which related
records they may link a lead to is the leads app's `list_linkable_*` selectors. This module says
which of a visible lead's fields a role may write. The UI form, the API and the CLI all ask it.
"""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _

from leadloop.accounts.actors import Actor, SystemActor
from leadloop.accounts.models import Role, User
from leadloop.errors import NotAllowed


class Permission(StrEnum):
    """A business action the code checks by role. `ROLES` says which roles may do it."""

    SEE_ALL_LEADS = "see_all_leads"
    STAFF_WORK = "staff_work"
    CONFIGURE_SOURCES = "configure_sources"
    CONFIGURE_ENRICHMENT = "configure_enrichment"
    CONFIGURE_SCORING = "configure_scoring"
    VIEW_READINESS_RULE = "view_readiness_rule"
    VIEW_PREDICTIVE_MODELS = "view_predictive_models"
    REVIEW_INTAKE = "review_intake"
    MANAGE_WEB_FORMS = "manage_web_forms"
    IMPORT_LEADS = "import_leads"
    RESTRUCTURE_ORGANIZATIONS = "restructure_organizations"
    ROUTE_TO_PARTNERS = "route_to_partners"
    MANAGE_ALL_API_KEYS = "manage_all_api_keys"
    TRAIN_MODELS = "train_models"
    VIEW_AUDIT = "view_audit"
    UNLOCK_LOGINS = "unlock_logins"
    MANAGE_USERS = "manage_users"
    CONFIGURE_ROUTING = "configure_routing"
    VIEW_ROUTING = "view_routing"
    MANAGE_WEBHOOKS = "manage_webhooks"
    # Sales follow-up: the team's working time and first-contact rules, and its board of reps.
    MANAGE_FOLLOW_UP = "manage_follow_up"
    FOLLOW_UP_LEADS = "follow_up_leads"
    # Nurture: marketing's e-mail templates, suppression list, surveys and workflows.
    MANAGE_NURTURE = "manage_nurture"
    # Telemarketing: setting up call lists and the do-not-call list, and working the desk.
    MANAGE_CALL_LISTS = "manage_call_lists"
    WORK_CALL_LISTS = "work_call_lists"
    # Analytics: the source and campaign report with costs and ROI; the norms sales KPIs are
    # held to (agreed by marketing and sales); a user's own or their teams' KPIs.
    SEE_SOURCE_ROI = "see_source_roi"
    SET_KPI_NORMS = "set_kpi_norms"
    SEE_SALES_KPIS = "see_sales_kpis"
    MANAGE_BUYERS = "manage_buyers"
    USE_BUYER_PORTAL = "use_buyer_portal"


_CONFIG = frozenset({Role.ADMIN, Role.MARKETING})

# The one table of who may do what. The system actor (operator CLI, background tasks) may do
# everything; a source key nothing here (what it may submit is checked where it submits).
ROLES: dict[Permission, frozenset[str]] = {
    Permission.SEE_ALL_LEADS: _CONFIG,
    # A telemarketing agent is company staff but works only its call lists' leads: it gets none
    # of the broad staff rights (creating leads, the catalogue, organisations, review queues).
    Permission.STAFF_WORK: frozenset(set(Role) - {Role.PARTNER, Role.AGENT, Role.BUYER}),
    Permission.CONFIGURE_SOURCES: _CONFIG,
    Permission.CONFIGURE_ENRICHMENT: _CONFIG,
    Permission.CONFIGURE_SCORING: _CONFIG,
    Permission.VIEW_READINESS_RULE: _CONFIG | {Role.SALES_MANAGER},
    Permission.VIEW_PREDICTIVE_MODELS: _CONFIG,
    Permission.REVIEW_INTAKE: _CONFIG,
    Permission.MANAGE_WEB_FORMS: _CONFIG,
    Permission.IMPORT_LEADS: _CONFIG,
    Permission.RESTRUCTURE_ORGANIZATIONS: _CONFIG,
    Permission.ROUTE_TO_PARTNERS: _CONFIG | {Role.SALES_MANAGER},
    Permission.MANAGE_ALL_API_KEYS: frozenset({Role.ADMIN}),
    Permission.TRAIN_MODELS: _CONFIG,
    Permission.VIEW_AUDIT: frozenset({Role.ADMIN}),
    Permission.UNLOCK_LOGINS: frozenset({Role.ADMIN}),
    Permission.MANAGE_USERS: frozenset({Role.ADMIN}),
    Permission.CONFIGURE_ROUTING: _CONFIG,
    Permission.VIEW_ROUTING: _CONFIG | {Role.SALES_MANAGER},
    Permission.MANAGE_WEBHOOKS: frozenset({Role.ADMIN}),
    Permission.MANAGE_FOLLOW_UP: frozenset({Role.ADMIN, Role.SALES_MANAGER}),
    Permission.FOLLOW_UP_LEADS: frozenset({Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP}),
    Permission.MANAGE_NURTURE: _CONFIG,
    Permission.MANAGE_CALL_LISTS: _CONFIG,
    Permission.WORK_CALL_LISTS: _CONFIG | {Role.AGENT},
    Permission.SEE_SOURCE_ROI: _CONFIG,
    Permission.SET_KPI_NORMS: _CONFIG | {Role.SALES_MANAGER},
    Permission.SEE_SALES_KPIS: _CONFIG | {Role.SALES_MANAGER, Role.SALES_REP, Role.PARTNER},
    Permission.MANAGE_BUYERS: _CONFIG,
    Permission.USE_BUYER_PORTAL: frozenset({Role.BUYER}),
}

# Where the role alone is not enough: the user must also still be active.
NEEDS_ACTIVE = frozenset(
    {
        Permission.IMPORT_LEADS,
        Permission.MANAGE_ALL_API_KEYS,
        Permission.VIEW_AUDIT,
        Permission.MANAGE_USERS,
        Permission.MANAGE_WEBHOOKS,
    }
)

# What `require` says when the caller does not say otherwise.
MESSAGES = {
    Permission.STAFF_WORK: _("Only company staff can do this."),
    Permission.CONFIGURE_SOURCES: _(
        "Only marketing and admins can configure sources and campaigns."
    ),
    Permission.CONFIGURE_ENRICHMENT: _("Only marketing and admins can configure enrichment."),
    Permission.CONFIGURE_SCORING: _(
        "Only marketing and admins can change the scoring configuration."
    ),
    Permission.VIEW_READINESS_RULE: _("Only marketing, admins and sales managers see this page."),
    Permission.VIEW_PREDICTIVE_MODELS: _("Only marketing and admins see the predictive models."),
    Permission.REVIEW_INTAKE: _("Only marketing and admins review submissions."),
    Permission.MANAGE_WEB_FORMS: _("Only marketing and admins can build web forms."),
    Permission.IMPORT_LEADS: _("Only marketing and admins import files."),
    Permission.RESTRUCTURE_ORGANIZATIONS: _(
        "Only marketing and admins can restructure organisations."
    ),
    Permission.ROUTE_TO_PARTNERS: _("You cannot route leads to partners."),
    Permission.MANAGE_ALL_API_KEYS: _("You can manage your own API keys only."),
    Permission.TRAIN_MODELS: _("Only marketing and admins train the predictive model."),
    Permission.VIEW_AUDIT: _("Only admins can read the audit log."),
    Permission.UNLOCK_LOGINS: _("Only admins can unlock logins."),
    Permission.MANAGE_USERS: _("Only admins can manage users and settings."),
    Permission.CONFIGURE_ROUTING: _("Only marketing and admins can change the routing rules."),
    Permission.VIEW_ROUTING: _("Only marketing, admins and sales managers see the routing."),
    Permission.MANAGE_WEBHOOKS: _("Only admins manage webhooks."),
    Permission.MANAGE_BUYERS: _("Only marketing and admins manage lead buyers."),
    Permission.USE_BUYER_PORTAL: _("Only a lead buyer's users see the buyer portal."),
    Permission.MANAGE_FOLLOW_UP: _("Only sales managers and admins change the follow-up rules."),
    Permission.FOLLOW_UP_LEADS: _("Only the sales team works the follow-up pages."),
    Permission.MANAGE_CALL_LISTS: _("Only marketing and admins manage call lists."),
    Permission.WORK_CALL_LISTS: _("Only telemarketing agents, marketing and admins make calls."),
    Permission.SEE_SOURCE_ROI: _("Only marketing and admins see costs and returns per source."),
    Permission.SET_KPI_NORMS: _("Only marketing, admins and sales managers set the KPI norms."),
    Permission.SEE_SALES_KPIS: _("Your role has no sales figures."),
}


def can(actor: Actor, permission: Permission) -> bool:
    """Whether `actor` may: the system always, a source key never, a user by role."""
    if isinstance(actor, SystemActor):
        return True
    if not isinstance(actor, User):
        return False
    if permission in NEEDS_ACTIVE and not actor.is_active:
        return False
    return actor.role in ROLES[permission]


def require(actor: Actor, permission: Permission, message: str | None = None) -> None:
    """Raise `NotAllowed` (with `message`, or the permission's own) unless `actor` may."""
    if not can(actor, permission):
        default = MESSAGES.get(permission, _("Not allowed"))
        raise NotAllowed(str(message if message is not None else default))


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
    user those of `PARTNER_LEAD_FIELDS` their organisation lets them see (a field they cannot
    read they cannot overwrite either); an inactive user none.
    """
    if not isinstance(actor, User):
        return None
    if not actor.is_active:
        return frozenset()
    if actor.role == Role.PARTNER:
        partner = actor.partner if actor.partner_id else None
        hidden = partner.field_view.hidden_columns if partner is not None else frozenset()
        # The input "phone" writes the columns phone_raw and phone_e164.
        inputs = hidden | ({"phone"} if "phone_raw" in hidden else set())
        return PARTNER_LEAD_FIELDS - inputs
    return None


def can_manage_api_keys_of(actor: Actor, user: User) -> bool:
    """Whether `actor` may list, create and revoke `user`'s API keys: their own, or an admin
    (and the operator's CLI) anyone's."""
    if isinstance(actor, SystemActor):
        return True
    if not isinstance(actor, User) or not actor.is_active:
        return False
    return actor.pk == user.pk or can(actor, Permission.MANAGE_ALL_API_KEYS)
