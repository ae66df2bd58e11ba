"""/api/v1/distribution: routing rules, teams and capacity, pools, partners' offers.

Each module registers its endpoints on the one router (`base.router`); importing them here
mounts them, in an order where no literal path falls behind a parameter of the same shape.
"""

from leadloop.distribution.api import pools, rules, teams
from leadloop.distribution.api.base import router

__all__ = ["pools", "router", "rules", "teams"]
