"""The request boundary: one transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute

from app.core.db import Database, transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class TransactionalRoute(APIRoute):
    """Opens the request's session before dependencies run and commits it after the handler has
    built its response, so a failed commit never turns into a 2xx. An exception rolls back.

    A successful response is offered to the request's idempotency record (if any) inside the same
    transaction, so the stored response and the write it describes commit together.
    """

    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            database: Database = request.app.state.db
            async with transaction(database, writes=request.method not in SAFE_METHODS) as session:
                request.state.session = session
                response = await handler(request)
                record = getattr(request.state, "idempotency", None)
                if record is not None and response.status_code < 400:
                    await record.store(session, response)
            return response

        return run


def domain_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose routes run inside the request transaction."""
    return APIRouter(route_class=TransactionalRoute, **kwargs)
