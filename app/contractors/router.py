from typing import Annotated

from fastapi import Path, Request, Response

from app.auth.dependencies import ReadCaller, WriteCaller
from app.contractors import service
from app.contractors.schemas import ContractorKind, ContractorRead, ContractorUpsert
from app.core.errors import problem_responses
from app.core.http import answer_put, etag_of
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.core.types import SLUG_PATTERN

router = domain_router(prefix="/contractors", tags=["contractors"])

Key = Annotated[str, Path(pattern=SLUG_PATTERN, description="The contractor's key, e.g. `acme`.")]


@router.put(
    "/{key}",
    operation_id="upsertContractor",
    response_model=ContractorRead,
    responses={201: {"model": ContractorRead, "description": "Created"}, **problem_responses(413, 415, 422)},
)
async def upsert_contractor(
    key: Key, data: ContractorUpsert, session: SessionDep, _: WriteCaller, response: Response
) -> ContractorRead:
    """Register the contractor (an agency, freelancer or platform that executes marketing work), or replace its
    details (200 when it existed, 201 when created). Deactivate one with `active: false`; it is never deleted."""
    contractor, created = await service.upsert_contractor(session, key, data)
    answer_put(
        response,
        created=created,
        etag=etag_of(contractor.key, contractor.updated_at),
        location=f"/v1/contractors/{contractor.key}",
    )
    return contractor


@router.get("", operation_id="listContractors", responses=list_responses(422))
async def list_contractors(
    session: SessionDep,
    _: ReadCaller,
    page: PageDep,
    request: Request,
    response: Response,
    kind: ContractorKind | None = None,
    active: bool | None = None,
) -> Page[ContractorRead]:
    """Registered contractors, ordered by key."""
    items, next_cursor = await service.list_contractors(
        session, kind=kind, active=active, limit=page.limit, cursor=page.cursor
    )
    set_link_header(request, response, next_cursor)
    return Page[ContractorRead](items=items, next_cursor=next_cursor)


@router.get("/{key}", operation_id="getContractor", responses=problem_responses(404, 422))
async def get_contractor(key: Key, session: SessionDep, _: ReadCaller, response: Response) -> ContractorRead:
    contractor = await service.get_contractor(session, key)
    response.headers["ETag"] = etag_of(contractor.key, contractor.updated_at)
    return contractor
