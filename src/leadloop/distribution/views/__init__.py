"""The routing pages. Thin: forms in, services out."""

from leadloop.distribution.views.pools import (
    offer_accept,
    offer_reject,
    offers_page,
    partner_hours,
    pool_claim,
    pool_claim_next,
    pool_page,
    scorecard_page,
)
from leadloop.distribution.views.rules import (
    route_waiting,
    rule_default,
    rule_delete,
    rule_edit,
    rule_move,
    rules_discard,
    rules_export,
    rules_page,
    rules_publish,
    version_restore,
)
from leadloop.distribution.views.teams import (
    absence_add,
    absence_remove,
    rep_capacity,
    team_settings,
    teams_page,
)

__all__ = [
    "absence_add",
    "absence_remove",
    "offer_accept",
    "offer_reject",
    "offers_page",
    "partner_hours",
    "pool_claim",
    "pool_claim_next",
    "pool_page",
    "rep_capacity",
    "route_waiting",
    "rule_default",
    "rule_delete",
    "rule_edit",
    "rule_move",
    "rules_discard",
    "rules_export",
    "rules_page",
    "rules_publish",
    "scorecard_page",
    "team_settings",
    "teams_page",
    "version_restore",
]
