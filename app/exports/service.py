"""Streaming exports for BI tools: every decision as NDJSON or CSV, incremental by ``updated_at``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from enum import StrEnum

from app.core import csv
from app.core.http import exact_json
from app.core.types import AnyRow
from app.core.unit_of_work import Database, read_stream
from app.decisions import repository
from app.decisions.schemas import DecisionRead
from app.decisions.service import to_read

DECISION_COLUMNS = list(DecisionRead.model_fields)


class ExportFormat(StrEnum):
    ndjson = "ndjson"
    csv = "csv"


async def open_stream(
    database: Database, *, updated_since: datetime | None, fmt: ExportFormat, bom: bool
) -> AsyncIterator[bytes]:
    """The export's body, started: its session is open and its first rows read before the response begins,
    so a database that is away or busy answers 503 (problem+json) instead of a 200 cut off mid-stream."""
    body = _stream(database, updated_since=updated_since, fmt=fmt, bom=bom)
    first = await anext(body)
    return _prepended(first, body)


async def _prepended(first: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield first
    async for chunk in rest:
        yield chunk


async def _stream(
    database: Database, *, updated_since: datetime | None, fmt: ExportFormat, bom: bool
) -> AsyncIterator[bytes]:
    """Runs in its own read-only unit of work: the response outlives the request's transaction. The first chunk
    (the CSV header with the first rows) comes once the first rows are read."""
    line = csv.CsvLine()

    def render(rows: Sequence[AnyRow]) -> bytes:
        decisions = [to_read(row) for row in rows]
        if fmt is ExportFormat.ndjson:
            return b"".join(exact_json(d) + b"\n" for d in decisions)
        dumped = (d.model_dump(mode="json") for d in decisions)
        return "".join(line(row[c] for c in DECISION_COLUMNS) for row in dumped).encode()

    head = ((csv.BOM if bom else "") + line(DECISION_COLUMNS)).encode() if fmt is ExportFormat.csv else b""
    async with read_stream(database) as session:
        chunks = repository.stream_for_export(session, updated_since)
        first = await anext(chunks, None)
        yield head + (render(first) if first else b"")
        async for rows in chunks:
            yield render(rows)
