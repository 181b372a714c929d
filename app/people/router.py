from typing import Annotated

from fastapi import Path, Query, Request, Response

from app.auth.dependencies import ReadCaller, WriteCaller
from app.core.errors import problem_responses
from app.core.http import answer_put, etag_of
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.core.text import Text
from app.core.types import SLUG_PATTERN
from app.people import service
from app.people.schemas import PersonRead, PersonRole, PersonUpsert

router = domain_router(prefix="/people", tags=["people"])

Handle = Annotated[str, Path(pattern=SLUG_PATTERN, description="The person's handle, e.g. `anna.petrova`.")]


@router.put(
    "/{handle}",
    operation_id="upsertPerson",
    response_model=PersonRead,
    responses={201: {"model": PersonRead, "description": "Created"}, **problem_responses(413, 415, 422)},
)
async def upsert_person(
    handle: Handle, data: PersonUpsert, session: SessionDep, _: WriteCaller, response: Response
) -> PersonRead:
    """Create the person, or replace their details (200 when they existed, 201 when created)."""
    person, created = await service.upsert_person(session, handle, data)
    answer_put(
        response,
        created=created,
        etag=etag_of(person.handle, person.updated_at),
        location=f"/v1/people/{person.handle}",
    )
    return person


@router.get("", operation_id="listPeople", responses=list_responses(422))
async def list_people(
    session: SessionDep,
    _: ReadCaller,
    page: PageDep,
    request: Request,
    response: Response,
    team: Annotated[Annotated[str, Text(max_length=100)] | None, Query()] = None,
    active: bool | None = None,
    role: PersonRole | None = None,
) -> Page[PersonRead]:
    """People who can own decisions, ordered by handle."""
    items, next_cursor = await service.list_people(
        session, team=team, active=active, limit=page.limit, cursor=page.cursor, role=role
    )
    set_link_header(request, response, next_cursor)
    return Page[PersonRead](items=items, next_cursor=next_cursor)


@router.get("/{handle}", operation_id="getPerson", responses=problem_responses(404, 422))
async def get_person(handle: Handle, session: SessionDep, _: ReadCaller, response: Response) -> PersonRead:
    person = await service.get_person(session, handle)
    response.headers["ETag"] = etag_of(person.handle, person.updated_at)
    return person
