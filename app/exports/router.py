from typing import Annotated

from fastapi import Query, Request
from fastapi.responses import StreamingResponse

from app.auth.dependencies import ReadCaller
from app.core import csv
from app.core.errors import problem_responses
from app.core.routing import domain_router
from app.core.types import UtcInput
from app.exports import service
from app.exports.service import ExportFormat

router = domain_router(prefix="/exports", tags=["exports"])

MEDIA_TYPES = {ExportFormat.ndjson: "application/x-ndjson", ExportFormat.csv: "text/csv; charset=utf-8"}


@router.get(
    "/decisions",
    operation_id="exportDecisions",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "Every decision changed after `updated_since`, oldest change first.",
            "content": {
                "application/x-ndjson": {"schema": {"$ref": "#/components/schemas/DecisionRead"}},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **problem_responses(422),
    },
)
async def export_decisions(
    request: Request,
    _: ReadCaller,
    format: Annotated[
        ExportFormat | None, Query(description="`ndjson` (default) or `csv`; `Accept: text/csv` also asks for CSV.")
    ] = None,
    updated_since: Annotated[
        UtcInput | None,
        Query(
            description="Only decisions with `updated_at` after this (exclusive): pass the largest "
            "`updated_at` of the previous pull."
        ),
    ] = None,
    bom: Annotated[bool, Query(description="Start the CSV with a UTF-8 byte-order mark (for Excel).")] = False,
) -> StreamingResponse:
    """Stream every decision as NDJSON (one `DecisionRead` a line) or CSV (the same columns; nested
    values as JSON text), in a stable order (`updated_at`, then `id`), in constant memory."""
    wants_csv = csv.wants_csv(request.headers.get("accept"), format, otherwise=MEDIA_TYPES[ExportFormat.ndjson])
    fmt = ExportFormat.csv if wants_csv else ExportFormat.ndjson
    body = await service.open_stream(request.app.state.db, updated_since=updated_since, fmt=fmt, bom=bom)
    headers = {"Content-Disposition": 'attachment; filename="decisions.csv"'} if fmt is ExportFormat.csv else {}
    return StreamingResponse(body, media_type=MEDIA_TYPES[fmt], headers=headers)
