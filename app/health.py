"""Liveness and readiness. No key needed."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from app.core.db import Database
from app.core.errors import PROBLEM_JSON, Problem, ServiceUnavailable, render
from app.core.migrations import current_revision, head_revision

router = APIRouter(tags=["operations"])


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
    """The database is reachable and its schema is at the latest migration."""
    database: Database = request.app.state.db
    try:
        revision = await current_revision(database.engine)
    except Exception:
        return render(ServiceUnavailable("The database is not reachable."))
    if revision != head_revision():
        return render(ServiceUnavailable(f"The database schema is at {revision}, not at {head_revision()}."))
    return Readiness(status="ready", database="ok", migration=revision)
