import uuid
from typing import Any

import orjson
from fastapi import Request, Response
from starlette.convertors import StringConvertor, register_url_convertor

from app.auth.dependencies import ReadCaller, WriteCaller
from app.core.errors import problem_responses
from app.core.http import ExactJSONResponse, IfMatch
from app.core.money import answer_form
from app.core.pagination import Page, PageDep, list_responses, set_link_header
from app.core.routing import SessionDep, domain_router
from app.decisions import service
from app.decisions.dependencies import FiltersDep
from app.decisions.schemas import (
    DecisionBatchCreate,
    DecisionBatchRead,
    DecisionCreate,
    DecisionDetail,
    DecisionRead,
    DecisionRevisionRead,
    DecisionUpdate,
    OutcomeCreate,
    ReverseRequest,
)
from app.idempotency.service import Idempotent

router = domain_router(prefix="/decisions", tags=["decisions"])


class DecisionIdConvertor(StringConvertor):
    """A decision id segment: anything but the reserved `batch`, so `PATCH /decisions/batch` is a
    405 rather than a malformed id. The id itself is validated (422 when it is not a UUID)."""

    regex = r"(?!batch$)[^/]+"


register_url_convertor("decision_id", DecisionIdConvertor())

ETAG_HEADER = {"ETag": {"description": "Entity tag of the decision's current revision.", "schema": {"type": "string"}}}
CREATED = {
    "description": "Created",
    "headers": {**ETAG_HEADER, "Location": {"description": "URL of the decision.", "schema": {"type": "string"}}},
}


def _located(decision: DecisionRead, *, created: bool = False) -> Response:
    """The decision with its ETag (and its Location when created), its amount an exact JSON number."""
    response = ExactJSONResponse(decision, status_code=201 if created else 200)
    response.headers["ETag"] = service.etag(decision)
    if created:
        response.headers["Location"] = f"/v1/decisions/{decision.id}"
    return response


def _page(request: Request, page: Page[Any]) -> Response:
    response = ExactJSONResponse(page)
    set_link_header(request, response, page.next_cursor)
    return response


def _created(decision: service.DecisionJson) -> Response:
    """201 with the JSON form the write path built (it skips re-validating what it just validated)."""
    headers = {"ETag": service.etag(decision), "Location": f"/v1/decisions/{decision['id']}"}
    body = orjson.dumps(answer_form(decision))
    return Response(body, status_code=201, media_type="application/json", headers=headers)


@router.post(
    "",
    status_code=201,
    operation_id="createDecision",
    response_model=DecisionRead,
    responses={201: CREATED, **problem_responses(409, 413, 415, 422)},
)
async def create_decision(data: DecisionCreate, session: SessionDep, caller: WriteCaller, _: Idempotent) -> Response:
    """Record a decision. It is classed as made on data or on emotions by the basis rules."""
    return _created(await service.create_decision(session, data, caller))


@router.post(
    "/batch",
    status_code=201,
    operation_id="createDecisionBatch",
    response_model=DecisionBatchRead,
    responses=problem_responses(409, 413, 415, 422),
)
async def create_decision_batch(
    data: DecisionBatchCreate, session: SessionDep, caller: WriteCaller, _: Idempotent
) -> Response:
    """Record up to 1,000 decisions, all or nothing, answered in the order sent.

    Any invalid item refuses the whole batch with 422; each error's `loc` starts
    `["body", "items", <index>, …]`. An `external_ref` already used → 409 naming the item and the
    existing decision.
    """
    items = await service.create_decisions(session, data.items, caller, loc=lambda index: ["body", "items", index])
    body = orjson.dumps({"items": [answer_form(item) for item in items]})
    return Response(body, status_code=201, media_type="application/json")


@router.get("", operation_id="listDecisions", response_model=Page[DecisionRead], responses=list_responses(422))
async def list_decisions(
    session: SessionDep, _: ReadCaller, page: PageDep, filters: FiltersDep, request: Request
) -> Response:
    """Decisions, newest `decided_at` first (ties by id), filtered."""
    items, next_cursor = await service.list_decisions(session, filters, limit=page.limit, cursor=page.cursor)
    return _page(request, Page[DecisionRead](items=items, next_cursor=next_cursor))


@router.get(
    "/{decision_id:decision_id}",
    operation_id="getDecision",
    response_model=DecisionDetail,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(404, 422)},
)
async def get_decision(decision_id: uuid.UUID, session: SessionDep, _: ReadCaller) -> Response:
    """The decision, with `contradicts`: the active, unreviewed decisions that push its expected outcome's KPI the
    other way, decided within 90 days of it."""
    return _located(await service.get_decision_detail(session, decision_id))


@router.patch(
    "/{decision_id:decision_id}",
    operation_id="updateDecision",
    response_model=DecisionRead,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(404, 409, 412, 413, 415, 422)},
)
async def update_decision(
    decision_id: uuid.UUID,
    data: DecisionUpdate,
    session: SessionDep,
    caller: WriteCaller,
    if_match: IfMatch = None,
) -> Response:
    """Correct a decision. The change is kept as a new revision with `edit_reason`."""
    return _located(await service.update_decision(session, decision_id, data, caller, if_match))


@router.get(
    "/{decision_id:decision_id}/revisions",
    operation_id="listDecisionRevisions",
    response_model=Page[DecisionRevisionRead],
    responses=list_responses(404, 422),
)
async def list_decision_revisions(
    decision_id: uuid.UUID, session: SessionDep, _: ReadCaller, page: PageDep, request: Request
) -> Response:
    """Every revision, oldest first, the current one included."""
    items, next_cursor = await service.list_revisions(session, decision_id, limit=page.limit, cursor=page.cursor)
    return _page(request, Page[DecisionRevisionRead](items=items, next_cursor=next_cursor))


@router.post(
    "/{decision_id:decision_id}/reverse",
    operation_id="reverseDecision",
    response_model=DecisionRead,
    responses={200: {"headers": ETAG_HEADER}, **problem_responses(404, 409, 412, 413, 415, 422)},
)
async def reverse_decision(
    decision_id: uuid.UUID,
    data: ReverseRequest,
    session: SessionDep,
    caller: WriteCaller,
    _: Idempotent,
    if_match: IfMatch = None,
) -> Response:
    """Reverse a decision (status `reversed`), or mark it `superseded` by the decision that replaces it."""
    return _located(await service.reverse_decision(session, decision_id, data, caller, if_match))


@router.post(
    "/{decision_id:decision_id}/outcome",
    status_code=201,
    operation_id="recordDecisionOutcome",
    response_model=DecisionRead,
    responses={201: CREATED, **problem_responses(404, 409, 412, 413, 415, 422)},
)
async def record_decision_outcome(
    decision_id: uuid.UUID,
    data: OutcomeCreate,
    session: SessionDep,
    caller: WriteCaller,
    _: Idempotent,
    if_match: IfMatch = None,
) -> Response:
    """Record the outcome review: whether the decision achieved what it expected."""
    return _located(await service.record_outcome(session, decision_id, data, caller, if_match), created=True)
