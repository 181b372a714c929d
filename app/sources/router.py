from typing import Annotated

from fastapi import Path, Request, Response

from app.auth.dependencies import ReadCaller, WriteCaller
from app.core.errors import problem_responses
from app.core.http import answer_put, etag_of
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.core.types import SLUG_PATTERN
from app.sources import service
from app.sources.schemas import DataSourceKind, DataSourceRead, DataSourceUpsert

router = domain_router(prefix="/data-sources", tags=["data sources"])

Key = Annotated[str, Path(pattern=SLUG_PATTERN, description="The source's key, e.g. `ga4`.")]


@router.put(
    "/{key}",
    operation_id="upsertDataSource",
    response_model=DataSourceRead,
    responses={201: {"model": DataSourceRead, "description": "Created"}, **problem_responses(413, 415, 422)},
)
async def upsert_data_source(
    key: Key, data: DataSourceUpsert, session: SessionDep, _: WriteCaller, response: Response
) -> DataSourceRead:
    """Register the data source, or replace its details (200 when it existed, 201 when created)."""
    source, created = await service.upsert_source(session, key, data)
    answer_put(
        response,
        created=created,
        etag=etag_of(source.key, source.updated_at),
        location=f"/v1/data-sources/{source.key}",
    )
    return source


@router.get("", operation_id="listDataSources", responses=list_responses(422))
async def list_data_sources(
    session: SessionDep,
    _: ReadCaller,
    page: PageDep,
    request: Request,
    response: Response,
    kind: DataSourceKind | None = None,
) -> Page[DataSourceRead]:
    """Registered sources of evidence, ordered by key."""
    items, next_cursor = await service.list_sources(session, kind=kind, limit=page.limit, cursor=page.cursor)
    set_link_header(request, response, next_cursor)
    return Page[DataSourceRead](items=items, next_cursor=next_cursor)


@router.get("/{key}", operation_id="getDataSource", responses=problem_responses(404, 422))
async def get_data_source(key: Key, session: SessionDep, _: ReadCaller, response: Response) -> DataSourceRead:
    source = await service.get_source(session, key)
    response.headers["ETag"] = etag_of(source.key, source.updated_at)
    return source
