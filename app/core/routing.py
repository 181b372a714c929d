"""The request boundary: one transaction per request, committed before the response is sent."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Depends, Request, Response
from fastapi.routing import APIRoute

from app.core.config import Settings
from app.core.dialect import prefer_custom_plans
from app.core.money import parse_json
from app.core.secrets import carries_secret
from app.core.unit_of_work import Database, DatabaseSession, transaction

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ExactBodyRequest(Request):
    """A request whose JSON body keeps the digits of every number with a fraction or an exponent
    (:func:`app.core.money.parse_json`), so an amount is exact before validation sees it; FastAPI reads the body
    through :meth:`json`. Every other field still gets a float."""

    _parsed: Any = None

    async def json(self) -> Any:
        if self._parsed is None:
            self._parsed = (parse_json(await self.body()),)
        return self._parsed[0]


class TransactionalRoute(APIRoute):
    """Opens the request's session before dependencies run and commits it after the handler has
    built its response, so a failed commit never turns into a 2xx. An exception rolls back.

    A successful response is offered to the request's idempotency record (if any) inside the same
    transaction, so the stored response and the write it describes commit together; without its body
    when the route's response model holds a secret (:mod:`app.core.secrets`).

    Each wait for the database's answer is bounded by ``DECISION_LOG_QUERY_TIMEOUT_SECONDS``
    (routes with ``long_queries``: the statement timeout), so a database that stops answering
    costs a request 503 + ``Retry-After`` within seconds, never a hang.
    """

    long_queries: ClassVar[bool] = False

    def wait_limit(self, settings: Settings) -> float:
        if self.long_queries:
            return settings.statement_timeout_seconds + 1
        return settings.query_timeout_seconds

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        keep_body = not carries_secret(self.response_model)

        async def run(request: Request) -> Response:
            database: Database = request.app.state.db
            writes = request.method not in SAFE_METHODS
            if writes:
                request = ExactBodyRequest(request.scope, request.receive)
            async with transaction(database, writes=writes, wait_limit=self.wait_limit(database.settings)) as session:
                request.state.session = session
                if self.long_queries:
                    await prefer_custom_plans(session)
                response = await handler(request)
                record = getattr(request.state, "idempotency", None)
                if record is not None and response.status_code < 400:
                    await record.store(session, response, keep_body=keep_body)
            session.run_after_commit()
            return response

        return run


def request_session(request: Request) -> DatabaseSession:
    """The request's session, opened by :class:`TransactionalRoute`. Dependencies that other dependencies share
    (authentication, idempotency) take it from here rather than from ``SessionDep``: FastAPI solves a shared
    sub-dependency again under each user before its cache answers."""
    return request.state.session  # type: ignore[no-any-return]


async def get_session(request: Request) -> DatabaseSession:
    """The request's session, opened by :class:`TransactionalRoute`."""
    return request_session(request)


SessionDep = Annotated[DatabaseSession, Depends(get_session)]


class LongQueryRoute(TransactionalRoute):
    """For reports whose statements may rightly run up to the statement timeout (analytics)."""

    long_queries = True


def domain_router(*, long_queries: bool = False, **kwargs: Any) -> APIRouter:
    """An APIRouter whose routes run inside the request transaction; ``long_queries`` for reports
    that may wait on the database up to the statement timeout."""
    return APIRouter(route_class=LongQueryRoute if long_queries else TransactionalRoute, **kwargs)
