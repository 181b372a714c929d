"""Streaming exports for BI tools: every decision as NDJSON or CSV, incremental by ``updated_at``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from enum import StrEnum

from app.core import csv
from app.core.db import Database, write_intent
from app.decisions import repository
from app.decisions.schemas import DecisionRead
from app.decisions.service import to_read

DECISION_COLUMNS = list(DecisionRead.model_fields)


class ExportFormat(StrEnum):
    ndjson = "ndjson"
    csv = "csv"


async def stream_decisions(
    database: Database, *, updated_since: datetime | None, fmt: ExportFormat, bom: bool
) -> AsyncIterator[bytes]:
    """Runs on its own read-only session: the response outlives the request's transaction."""
    write_intent.set(False)
    line = csv.CsvLine()
    if fmt is ExportFormat.csv:
        yield ((csv.BOM if bom else "") + line(DECISION_COLUMNS)).encode()
    async with database.sessionmaker() as session:
        async for rows in repository.stream_for_export(session, updated_since):
            decisions = [to_read(row) for row in rows]
            if fmt is ExportFormat.ndjson:
                yield b"".join(d.model_dump_json().encode() + b"\n" for d in decisions)
            else:
                dumped = (d.model_dump(mode="json") for d in decisions)
                yield "".join(line(row[c] for c in DECISION_COLUMNS) for row in dumped).encode()
