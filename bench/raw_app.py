"""The baseline for ``bench/write.py``: the same decision row, written with a plain asyncpg pool.

A bare ASGI callable, served by uvicorn exactly like the service (one worker). Its one POST
handler parses the JSON body, derives the server-set columns the service would set, inserts the
row with one prepared ``INSERT`` and answers 201 with the id. No auth, no validation, no
revision history, no response model: the floor a Python endpoint cannot go under.

    BENCH_RAW_DSN=postgresql://postgres@127.0.0.1:5432/db .venv/bin/uvicorn raw_app:app --app-dir bench
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import asyncpg  # type: ignore[import-untyped]
import uuid_utils.compat as uuid_compat

COLUMNS = (
    "id",
    "title",
    "description",
    "rationale",
    "basis",
    "basis_class",
    "classification_reason",
    "evidence",
    "evidence_count",
    "owner_handle",
    "participants",
    "team",
    "channel",
    "category",
    "budget_amount",
    "budget_currency",
    "decided_at",
    "expected_outcome",
    "review_by",
    "tags",
    "external_system",
    "external_id",
    "status",
    "revision",
    "recorded_at",
    "recorded_by",
    "updated_at",
)
INSERT = (
    f"INSERT INTO decision ({', '.join(COLUMNS)}) VALUES ({', '.join(f'${i}' for i in range(1, len(COLUMNS) + 1))})"
)
DATA_BASES = frozenset({"data", "experiment", "research"})
JSON_HEADERS = [(b"content-type", b"application/json")]

_pool: asyncpg.Pool | None = None


def classify(basis: str, evidence_count: int) -> tuple[str, str]:
    if basis not in DATA_BASES:
        return "emotion", f"declared_{basis}"
    return ("data", "evidence_cited") if evidence_count else ("emotion", "data_claim_without_evidence")


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _row(data: dict[str, Any], now: datetime) -> tuple[Any, ...]:
    evidence = data.get("evidence") or []
    expected = data.get("expected_outcome")
    external = data.get("external_ref") or {}
    amount = data.get("budget_amount")
    basis_class, reason = classify(data["basis"], len(evidence))
    return (
        uuid_compat.uuid7(),
        data["title"],
        data.get("description"),
        data["rationale"],
        data["basis"],
        basis_class,
        reason,
        json.dumps(evidence),
        len(evidence),
        data["owner"],
        json.dumps(data.get("participants") or []),
        data.get("team"),
        data.get("channel"),
        data.get("category", "other"),
        _units(amount) if amount is not None else None,
        data.get("budget_currency"),
        _when(data.get("decided_at")) or now,
        json.dumps(expected) if expected is not None else None,  # SQL NULL when absent, as the service
        _when(expected.get("review_by")) if expected else None,
        json.dumps(data.get("tags") or []),
        external.get("system"),
        external.get("id"),
        "active",
        1,
        now,
        "bench-raw",
        now,
    )


def _units(amount: int | float) -> int:
    """The service's storage of an amount: integer ten-thousandths (app/core/money.py), from the decimal the JSON
    number spells (a float's shortest form: the body's digits for any amount of up to 15 significant digits)."""
    return int(Decimal(repr(amount) if isinstance(amount, float) else amount).scaleb(4))


async def _respond(send: Any, status: int, body: bytes) -> None:
    headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _lifespan(receive: Any, send: Any) -> None:
    global _pool
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # The service's pool: 10 connections, kept (DECISION_LOG_POOL_SIZE's default, no overflow).
            _pool = await asyncpg.create_pool(os.environ["BENCH_RAW_DSN"], min_size=10, max_size=10)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _pool is not None:
                await _pool.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] != "http":
        return
    if scope["method"] == "GET" and scope["path"] == "/healthz":
        await _respond(send, 200, b'{"status":"ok"}')
        return
    if scope["method"] != "POST" or scope["path"] != "/v1/decisions":
        await _respond(send, 404, b'{"title":"Not found"}')
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    row = _row(json.loads(body), datetime.now(UTC))
    assert _pool is not None
    await _pool.execute(INSERT, *row)
    await _respond(send, 201, json.dumps({"id": str(row[0])}).encode())
