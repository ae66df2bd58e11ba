"""The assessment API under /api/v1/assessment: each part adds its router here."""

from __future__ import annotations

from ninja import Router

from leadloop.assessment import config_api, enrichment_api, lead_api

router = Router()
router.add_router("", lead_api.router)
router.add_router("/config", config_api.router)
router.add_router("/enrichment", enrichment_api.router)
