"""Liveness and readiness. No key needed."""

import asyncio
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.core.errors import PROBLEM_JSON, Problem, ServiceUnavailable, render
from app.core.migrations import current_revision, head_revision
from app.core.unit_of_work import Database
from app.core.watchdog import bounded_waits

router = APIRouter(tags=["operations"])

_unfinished: set[asyncio.Future[str | None]] = set()


async def _revision(database: Database, limit: float) -> str | None:
    with bounded_waits(limit):
        return await current_revision(database.engine)


def _forget(check: asyncio.Future[str | None]) -> None:
    _unfinished.discard(check)
    if not check.cancelled():
        check.exception()  # retrieved: an unreachable database is reported by the answer, not logged


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready"]
    database: Literal["ok"]
    migration: str | None


@router.get("/healthz", operation_id="getHealth")
async def healthz() -> Health:
    """The process is up."""
    return Health(status="ok")


@router.get(
    "/readyz",
    operation_id="getReadiness",
    response_model=Readiness,
    responses={
        503: {
            "model": Problem,
            "description": "Not ready",
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    },
)
async def readyz(request: Request) -> JSONResponse | Readiness:
    """The database is reachable and its schema is at the latest migration. Answers within
    `DECISION_LOG_QUERY_TIMEOUT_SECONDS`, whatever the database does."""
    database: Database = request.app.state.db
    limit = database.settings.query_timeout_seconds
    check = asyncio.ensure_future(_revision(database, limit))
    try:
        revision = await asyncio.wait_for(asyncio.shield(check), timeout=limit)
    except TimeoutError:
        # The check itself is bounded (pool, connect and statement waits): let it end on its own.
        _unfinished.add(check)
        check.add_done_callback(_forget)
        return render(ServiceUnavailable(f"The database did not answer within {limit:g} s."))
    except Exception:
        return render(ServiceUnavailable("The database is not reachable."))
    if revision != head_revision():
        return render(ServiceUnavailable(f"The database schema is at {revision}, not at {head_revision()}."))
    return Readiness(status="ready", database="ok", migration=revision)
