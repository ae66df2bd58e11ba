"""The two routers the sales endpoints hang on; each endpoint module adds its operations."""

from ninja import Router

sales_router = Router()
lead_router = Router()
