"""/api/v1/selling: buyers, sales, auctions, returns and revenue.

Each module registers its endpoints on the one router (`base.router`); importing them here
mounts them.
"""

from leadloop.distribution.selling.api import buyers, market
from leadloop.distribution.selling.api.base import router

__all__ = ["buyers", "market", "router"]
