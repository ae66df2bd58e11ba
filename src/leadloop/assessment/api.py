"""The assessment API under /api/v1/assessment: each part adds its router here."""

from __future__ import annotations

from ninja import Router

from leadloop.assessment import (
    config_api,
    dedup_api,
    enrichment_api,
    lead_api,
    predictive_api,
)

router = Router()
router.add_router("", lead_api.router)
router.add_router("/config", config_api.router)
router.add_router("/enrichment", enrichment_api.router)
router.add_router("", dedup_api.router)  # /duplicates…, /merges/{id}/undo
router.add_router("/models", predictive_api.router)
