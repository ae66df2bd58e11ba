"""The assessment API under /api/v1/assessment: each part adds its router here."""

from __future__ import annotations

from ninja import Router

from leadloop.assessment.dedup import api as dedup_api
from leadloop.assessment.enrichment import api as enrichment_api
from leadloop.assessment.predictive import api as predictive_api
from leadloop.assessment.review import api as lead_api
from leadloop.assessment.scoring import api as config_api

router = Router()
router.add_router("", lead_api.router)
router.add_router("/config", config_api.router)
router.add_router("/enrichment", enrichment_api.router)
router.add_router("", dedup_api.router)  # /duplicates…, /merges/{id}/undo
router.add_router("/models", predictive_api.router)
