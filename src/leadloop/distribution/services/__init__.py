"""The verbs of routing: edit and publish rules, set teams' push, route leads, try rules."""

from leadloop.distribution.actions import describe as describe_action
from leadloop.distribution.conditions import FIELDS as condition_fields_map
from leadloop.distribution.services.partners import (
    DEFAULT_RESPONSE_HOURS,
    ScoreRow,
    accept_offer,
    count_open_offers,
    expire_offers,
    list_offers_for,
    reject_offer,
    scorecard,
    set_response_hours,
)
from leadloop.distribution.services.pools import (
    alert_unclaimed,
    claim_lead,
    claim_next,
    list_alerts,
    pooled_since,
)
from leadloop.distribution.services.routing import (
    MAX_NURTURE_TRIPS,
    ROUTING,
    on_sales_ready,
    route_lead,
    route_many,
    route_queued,
    sweep_waiting,
    waiting_ids,
)
from leadloop.distribution.services.rules import (
    clean_document,
    delete_draft_rule,
    discard_draft,
    export_document,
    move_draft_rule,
    publish,
    put_draft_rule,
    restore_to_draft,
    save_draft,
    set_draft_default,
)
from leadloop.distribution.services.teams import (
    add_absence,
    remove_absence,
    set_capacity,
    set_team_routing,
)
from leadloop.distribution.services.tell import assigned as tell_assigned
from leadloop.distribution.services.tell import on_assigned
from leadloop.distribution.services.trial import DryRun, Trial, dry_run, test_lead


def condition_fields() -> list[tuple[str, str]]:
    """The fields a condition can test, with their labels (the rule form's help)."""
    return [(name, str(spec.label)) for name, spec in condition_fields_map.items()]


__all__ = [
    "DEFAULT_RESPONSE_HOURS",
    "MAX_NURTURE_TRIPS",
    "ROUTING",
    "DryRun",
    "ScoreRow",
    "Trial",
    "accept_offer",
    "add_absence",
    "alert_unclaimed",
    "claim_lead",
    "claim_next",
    "clean_document",
    "condition_fields",
    "count_open_offers",
    "delete_draft_rule",
    "describe_action",
    "discard_draft",
    "dry_run",
    "expire_offers",
    "export_document",
    "list_alerts",
    "list_offers_for",
    "move_draft_rule",
    "on_assigned",
    "on_sales_ready",
    "pooled_since",
    "publish",
    "put_draft_rule",
    "reject_offer",
    "remove_absence",
    "restore_to_draft",
    "route_lead",
    "route_many",
    "route_queued",
    "save_draft",
    "scorecard",
    "set_capacity",
    "set_draft_default",
    "set_response_hours",
    "set_team_routing",
    "sweep_waiting",
    "tell_assigned",
    "test_lead",
    "waiting_ids",
]
