"""/api/v1/organizations: list, create, read with the tree, move under another parent."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Schema, Status
from pydantic import Field

from leadloop.accounts.actors import Actor
from leadloop.leads import selectors, services
from leadloop.leads.api.base import Strict, _actor, organizations
from leadloop.leads.models import Organization

# --- Organizations -------------------------------------------------------------------------------


class OrganizationIn(Strict):
    name: str
    parent_id: int | None = None
    website: str = ""
    domain: str = ""
    industry: str = ""
    employees: int | None = Field(None, ge=0)
    country: str = ""


class OrganizationMove(Strict):
    parent_id: int | None


class OrganizationOut(Schema):
    id: int
    name: str
    parent_id: int | None
    depth: int
    website: str
    domain: str
    industry: str
    employees: int | None
    country: str


class OrganizationTreeOut(Schema):
    organization: OrganizationOut
    ancestors: list[OrganizationOut]
    descendants: list[OrganizationOut]
    lead_count: int
    leads_by_status: dict[str, int]


def org_out(org: Organization) -> OrganizationOut:
    return OrganizationOut(
        id=org.pk,
        name=org.name,
        parent_id=org.parent_id,
        depth=org.depth,
        website=org.website,
        domain=org.domain,
        industry=org.industry,
        employees=org.employees,
        country=org.country,
    )


def _parent(actor: Actor, parent_id: int | None) -> Organization | None:
    if parent_id is None:
        return None
    return selectors.get_linkable_organization(actor, parent_id, field="parent_id")


@organizations.get("", response=list[OrganizationOut], summary="Organisations (search by name)")
def list_organizations(
    request: HttpRequest, q: str = "", limit: int = Query(100, ge=1, le=500)
) -> list[OrganizationOut]:
    return [org_out(o) for o in selectors.list_organizations(_actor(request), q=q, limit=limit)]


@organizations.post("", response={201: OrganizationOut}, summary="Create an organisation")
def create_organization(request: HttpRequest, payload: OrganizationIn) -> Status[OrganizationOut]:
    actor = _actor(request)
    data = payload.model_dump()
    parent = _parent(actor, data.pop("parent_id"))
    return Status(201, org_out(services.create_organization(by=actor, parent=parent, **data)))


@organizations.get(
    "/{org_id}",
    response=OrganizationTreeOut,
    summary="An organisation with its tree and lead roll-up",
)
def get_organization(request: HttpRequest, org_id: int) -> OrganizationTreeOut:
    tree = selectors.get_organization_tree(_actor(request), org_id, lead_limit=0)
    return OrganizationTreeOut(
        organization=org_out(tree.organization),
        ancestors=[org_out(o) for o in tree.ancestors],
        descendants=[org_out(o) for o in tree.descendants],
        lead_count=tree.lead_count,
        leads_by_status=tree.by_status,
    )


@organizations.post(
    "/{org_id}/move", response=OrganizationOut, summary="Place under another parent"
)
def move_organization(
    request: HttpRequest, org_id: int, payload: OrganizationMove
) -> OrganizationOut:
    actor = _actor(request)
    org = selectors.get_organization_tree(actor, org_id, lead_limit=0).organization
    return org_out(
        services.move_organization(org, parent=_parent(actor, payload.parent_id), by=actor)
    )
