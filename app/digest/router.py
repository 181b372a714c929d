"""The digest: what changed in a week or a month, as JSON, Markdown or HTML."""

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse

from app.analytics.router import TIME_ZONE_HEADER, Tz
from app.auth.dependencies import AnalyticsCaller
from app.core.errors import problem_responses
from app.core.http import ExactJSONResponse, negotiate
from app.core.routing import SessionDep, domain_router
from app.core.types import IsoDate
from app.digest import service
from app.digest.schemas import Digest, DigestFormat, DigestPeriod

router = domain_router(prefix="/digest", tags=["digest"], long_queries=True)

MEDIA_TYPES = {
    DigestFormat.json: "application/json",
    DigestFormat.markdown: "text/markdown",
    DigestFormat.html: "text/html",
}


@router.get(
    "",
    operation_id="getDigest",
    response_model=Digest,
    responses={
        200: {
            "content": {
                "text/markdown": {"schema": {"type": "string"}},
                "text/html": {"schema": {"type": "string"}},
            },
            "headers": {
                TIME_ZONE_HEADER: {"description": "The IANA time zone of the digest.", "schema": {"type": "string"}}
            },
        },
        **problem_responses(422),
    },
)
async def get_digest(
    session: SessionDep,
    request: Request,
    _: AnalyticsCaller,
    period: Annotated[DigestPeriod, Query(description="`week` (ISO, from Monday) or `month`.")] = DigestPeriod.week,
    at: Annotated[
        IsoDate | None,
        Query(description="A date in the period to report (YYYY-MM-DD); default: the last complete period."),
    ] = None,
    format: Annotated[
        DigestFormat | None,
        Query(description="`json`, `markdown` or `html`; without it, the `Accept` header chooses (JSON by default)."),
    ] = None,
    tz: Tz = None,
) -> Any:
    """What changed in the period against the one before, in the team's time zone: the owner's scorecard
    (`GET /v1/analytics/summary`) over each period and the change, strategy changes, the largest budgets decided
    on emotions and the reviews overdue."""
    result = await service.digest(session, period=period, at=at, tz=tz)
    chosen = format or DigestFormat(
        next(
            k
            for k, v in MEDIA_TYPES.items()
            if v == negotiate(request.headers.get("accept"), list(MEDIA_TYPES.values()))
        )
    )
    response: Any
    if chosen is DigestFormat.markdown:
        response = PlainTextResponse(service.markdown(result), media_type="text/markdown; charset=utf-8")
    elif chosen is DigestFormat.html:
        response = HTMLResponse(service.html(result))
    else:
        response = ExactJSONResponse(result)
    response.headers[TIME_ZONE_HEADER] = result.tz
    return response
