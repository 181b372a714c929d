import uuid
from typing import Annotated

from fastapi import Query, Request, Response

from app.auth.dependencies import ReadCaller
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.events import service
from app.events.schemas import EventRead, EventType

router = domain_router(prefix="/events", tags=["events"])


@router.get("", operation_id="listEvents", responses=list_responses(422))
async def list_events(
    session: SessionDep,
    _: ReadCaller,
    page: PageDep,
    request: Request,
    response: Response,
    type: Annotated[
        list[EventType] | None, Query(description="Only events of these types (repeat the parameter).")
    ] = None,
    after: Annotated[uuid.UUID | None, Query(description="Only events after this one (an event id).")] = None,
) -> Page[EventRead]:
    """Every change of the record and every signal the service derives, oldest first: the feed pollers read and
    webhooks deliver.

    The order is the order of commits, so a poller that keeps its place (`next_cursor`, or the last event's id
    in `after`) never misses an event committed after it looked. An event shows once its transaction and every
    transaction that began writing before it have ended (usually at once; at most the longest write's time).
    """
    items, next_cursor = await service.list_events(
        session, types=type, after=after, limit=page.limit, cursor=page.cursor
    )
    set_link_header(request, response, next_cursor)
    return Page[EventRead](items=items, next_cursor=next_cursor)
