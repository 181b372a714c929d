from typing import Annotated

from fastapi import Path, Request, Response

from app.auth.dependencies import ReadCaller, WriteCaller
from app.core.errors import problem_responses
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.core.types import SLUG_PATTERN
from app.idempotency.service import Idempotent
from app.strategies import service
from app.strategies.schemas import StrategyCreate, StrategyRead, StrategyVersionCreate, StrategyVersionRead

router = domain_router(prefix="/strategies", tags=["strategies"])

Key = Annotated[str, Path(pattern=SLUG_PATTERN, description="The strategy's key.")]
Number = Annotated[int, Path(ge=1, le=2_147_483_647, description="The version number, from 1.")]
CREATED = {
    "description": "Created",
    "headers": {
        "Location": {"description": "URL of the new resource.", "schema": {"type": "string"}},
        "ETag": {"description": "Entity tag of the new resource.", "schema": {"type": "string"}},
    },
}


@router.post(
    "",
    status_code=201,
    operation_id="createStrategy",
    responses={201: CREATED, **problem_responses(409, 413, 415, 422)},
)
async def create_strategy(
    data: StrategyCreate, session: SessionDep, _: WriteCaller, response: Response, __: Idempotent
) -> StrategyRead:
    """Create a strategy (no versions yet); 409 when the key is taken."""
    strategy = await service.create_strategy(session, data)
    response.headers["Location"] = f"/v1/strategies/{strategy.key}"
    response.headers["ETag"] = service.etag(strategy)
    return strategy


@router.get("", operation_id="listStrategies", responses=list_responses(422))
async def list_strategies(
    session: SessionDep, _: ReadCaller, page: PageDep, request: Request, response: Response
) -> Page[StrategyRead]:
    """Strategies ordered by key, each with the version in force now."""
    items, next_cursor = await service.list_strategies(session, limit=page.limit, cursor=page.cursor)
    set_link_header(request, response, next_cursor)
    return Page[StrategyRead](items=items, next_cursor=next_cursor)


@router.get("/{key}", operation_id="getStrategy", responses=problem_responses(404, 422))
async def get_strategy(key: Key, session: SessionDep, _: ReadCaller, response: Response) -> StrategyRead:
    """A strategy with `current_version`: the version in force now (null before the first)."""
    strategy = await service.get_strategy(session, key)
    response.headers["ETag"] = service.etag(strategy)
    return strategy


@router.post(
    "/{key}/versions",
    status_code=201,
    operation_id="createStrategyVersion",
    responses={201: CREATED, **problem_responses(404, 413, 415, 422)},
)
async def create_strategy_version(
    key: Key, data: StrategyVersionCreate, session: SessionDep, _: WriteCaller, response: Response, __: Idempotent
) -> StrategyVersionRead:
    """Add the next version (numbered 1, 2, … without gaps, even under concurrent posts).

    An `effective_from` before the previous version's is refused with 422. Versions are immutable.
    """
    version = await service.add_version(session, key, data)
    response.headers["Location"] = f"/v1/strategies/{key}/versions/{version.number}"
    response.headers["ETag"] = service.version_etag(version)
    return version


@router.get("/{key}/versions", operation_id="listStrategyVersions", responses=list_responses(404, 422))
async def list_strategy_versions(
    key: Key, session: SessionDep, _: ReadCaller, page: PageDep, request: Request, response: Response
) -> Page[StrategyVersionRead]:
    """Every version, oldest first, the current one included."""
    items, next_cursor = await service.list_versions(session, key, limit=page.limit, cursor=page.cursor)
    set_link_header(request, response, next_cursor)
    return Page[StrategyVersionRead](items=items, next_cursor=next_cursor)


@router.get("/{key}/versions/{number}", operation_id="getStrategyVersion", responses=problem_responses(404, 422))
async def get_strategy_version(
    key: Key, number: Number, session: SessionDep, _: ReadCaller, response: Response
) -> StrategyVersionRead:
    version = await service.get_version(session, key, number)
    response.headers["ETag"] = service.version_etag(version)
    return version
