"""A second baseline for ``bench/write.py --baseline lean_app``: the leanest FastAPI route that does the
service's work for ``POST /v1/decisions``, to measure what the request path around it costs.

It validates the body with the service's own ``DecisionCreate``, checks the API key (sha-256 and a
constant-time compare against an in-process cache, as the service's key cache does), then, in one
transaction on a plain asyncpg pool, builds the row, its JSON form, the first revision, the
tamper-evident log entry and the ``decision.recorded`` event with the service's own functions, and inserts
them with the service's one-statement CTE, which checks the references the body names; it answers 201 with the
JSON form, ``ETag`` and ``Location``.

What it leaves out, against the service: the per-request SQLAlchemy session and its bounded waits,
FastAPI's dependency tree (authentication, scopes, idempotency), the middlewares (request id, request
log and metrics, security headers, concurrency limit, body guard, cut-off answer), the rate limit and
every error answer. Not a way to run the service: a measuring stick.

    BENCH_RAW_DSN=postgresql://postgres@127.0.0.1:5432/db .venv/bin/uvicorn lean_app:app --app-dir bench
"""

from __future__ import annotations

import hmac
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

import asyncpg  # type: ignore[import-untyped]
import orjson
from fastapi import FastAPI, Header, Response

from app.auth.scopes import Scope
from app.auth.service import Caller, _hash, _parse
from app.core.http import etag_of
from app.core.types import utcnow
from app.decisions import repository
from app.decisions.repository import References
from app.decisions.schemas import DecisionCreate, RevisionKind
from app.decisions.service import _events, _keys, _log_items, _revision_row, _wanted, decision_json, new_row
from app.events import service as events
from app.integrity.service import _entry

KEYS: dict[str | None, tuple[str, Caller]] = {}
state: dict[str, Any] = {}


@asynccontextmanager
async def lifespan(_: FastAPI) -> AsyncIterator[None]:
    state["pool"] = await asyncpg.create_pool(os.environ["BENCH_RAW_DSN"], min_size=10, max_size=10)
    yield
    await state["pool"].close()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _caller(conn: Any, authorization: str | None) -> Caller | None:
    key = (authorization or "").removeprefix("Bearer ")
    digest = _hash(key)
    prefix = _parse(key) if key else None  # None: bench/write.py's set-up check, sent without a key
    cached = KEYS.get(prefix)
    if cached is None:
        where = "WHERE prefix = $1" if prefix else "WHERE $1::text IS NULL LIMIT 1"
        row = await conn.fetchrow(f"SELECT id, name, secret_hash, scope FROM api_key {where}", prefix)
        cached = KEYS[prefix] = (
            row["secret_hash"] if prefix else digest,
            Caller(str(row["id"]), row["name"], Scope(row["scope"])),
        )
    return cached[1] if hmac.compare_digest(cached[0], digest) else None


@app.post("/v1/decisions", status_code=201)
async def create(data: DecisionCreate, authorization: Annotated[str | None, Header()] = None) -> Response:
    now = utcnow()
    async with state["pool"].acquire() as conn:
        caller = await _caller(conn, authorization)
        if caller is None:
            return Response(status_code=401)
        async with conn.transaction():
            # bench/write.py's body gives the team and no strategy: the insert checks the references itself
            row = new_row(data, References.none(), now, caller)
            decision = decision_json(row)
            revision = _revision_row(
                row["id"], decision, RevisionKind.created, changed_at=now, caller=caller, reason=None,
                edited_by=None, changes={},
            )  # fmt: skip
            entries = [_entry(item, now) for item in _log_items([revision])]
            recorded = events.rows(_events([revision]), now)
            columns = tuple(row), tuple(revision), tuple(entries[0]), tuple(recorded[0])
            sql = repository._create_sql(*columns, many=False)
            written = await conn.fetch(
                sql,
                1,
                *repository.row_arguments([row], columns[0], repository.DECISION_BINDS, many=False),
                *repository.row_arguments([revision], columns[1], repository.REVISION_BINDS, many=False),
                *repository.row_arguments(entries, columns[2], {}, many=False),
                *repository.row_arguments(recorded, columns[3], repository.EVENT_BINDS, many=False),
                *_keys(_wanted(data, ["body"])).arrays(),
            )
            if not written[0]["known"]:
                return Response(status_code=422)
    headers = {"ETag": etag_of(decision["id"], decision["revision"]), "Location": f"/v1/decisions/{decision['id']}"}
    return Response(orjson.dumps(decision), status_code=201, media_type="application/json", headers=headers)
