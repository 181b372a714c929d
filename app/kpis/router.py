from typing import Annotated

from fastapi import Path, Query, Request, Response

from app.auth.dependencies import ReadCaller, WriteCaller
from app.core.errors import problem_responses
from app.core.http import IfMatch, answer_put
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.core.types import SLUG_PATTERN, UtcInput
from app.kpis import service
from app.kpis.schemas import KpiKind, KpiPut, KpiRead, KpiRevisionRead

router = domain_router(prefix="/kpis", tags=["kpis"])

Key = Annotated[str, Path(pattern=SLUG_PATTERN, description="The KPI's key, e.g. `cpa`.")]
ETAG_HEADER = {"ETag": {"description": "Entity tag of the KPI's current revision.", "schema": {"type": "string"}}}


@router.put(
    "/{key}",
    operation_id="putKpi",
    response_model=KpiRead,
    responses={
        200: {"headers": ETAG_HEADER},
        201: {
            "model": KpiRead,
            "description": "Created",
            "headers": {**ETAG_HEADER, "Location": {"description": "URL of the KPI.", "schema": {"type": "string"}}},
        },
        **problem_responses(412, 413, 415, 422),
    },
)
async def put_kpi(
    key: Key,
    data: KpiPut,
    session: SessionDep,
    caller: WriteCaller,
    response: Response,
    if_match: IfMatch = None,
) -> KpiRead:
    """Create the KPI (201, revision 1) or revise it (200). A PUT that changes nothing records nothing.

    Send `If-Match` with the ETag last read to avoid overwriting someone else's change (412 when stale).
    """
    kpi, created = await service.put_kpi(session, key, data, caller, if_match)
    answer_put(response, created=created, etag=service.etag(kpi), location=f"/v1/kpis/{kpi.key}")
    return kpi


@router.get("", operation_id="listKpis", responses=list_responses(422))
async def list_kpis(
    session: SessionDep,
    _: ReadCaller,
    page: PageDep,
    request: Request,
    response: Response,
    kind: KpiKind | None = None,
    owner: Annotated[str | None, Query(pattern=SLUG_PATTERN)] = None,
) -> Page[KpiRead]:
    """KPIs ordered by key."""
    items, next_cursor = await service.list_kpis(
        session, kind=kind.value if kind else None, owner=owner, limit=page.limit, cursor=page.cursor
    )
    set_link_header(request, response, next_cursor)
    return Page[KpiRead](items=items, next_cursor=next_cursor)


@router.get("/{key}", operation_id="getKpi", responses={200: {"headers": ETAG_HEADER}, **problem_responses(404, 422)})
async def get_kpi(
    key: Key,
    session: SessionDep,
    _: ReadCaller,
    response: Response,
    at: Annotated[UtcInput | None, Query(description="Show the KPI as it stood at this time.")] = None,
) -> KpiRead:
    """A KPI now, or as it stood at `at` (its target on date X)."""
    kpi = await service.get_kpi(session, key, at)
    if at is None:
        response.headers["ETag"] = service.etag(kpi)
    return kpi


@router.get("/{key}/revisions", operation_id="listKpiRevisions", responses=list_responses(404, 422))
async def list_kpi_revisions(
    key: Key, session: SessionDep, _: ReadCaller, page: PageDep, request: Request, response: Response
) -> Page[KpiRevisionRead]:
    """Every revision, oldest first, the current one included: who, when, why and what changed."""
    items, next_cursor = await service.list_revisions(session, key, limit=page.limit, cursor=page.cursor)
    set_link_header(request, response, next_cursor)
    return Page[KpiRevisionRead](items=items, next_cursor=next_cursor)
