"""The registers' pages: strategies (versions on a timeline, reasons, what changed), KPIs (revisions, as they
stood on a date) and people (accountability and recent decisions)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from app.analytics import views
from app.core.routing import SessionDep
from app.core.types import SLUG_PATTERN
from app.web import charts
from app.web.rendering import PageRoute, render
from app.web.router import picked_range
from app.web.session import Analyst, Reader

router = APIRouter(route_class=PageRoute, include_in_schema=False)

Key = Annotated[str, Query(pattern=SLUG_PATTERN)]


@router.get("/ui/strategies")
async def strategies_page(request: Request, session: SessionDep, viewer: Analyst) -> Response:
    return render(request, "strategies.html", {"rows": await views.strategy_list(session)})


@router.get("/ui/strategies/{key}")
async def strategy_page(request: Request, session: SessionDep, viewer: Analyst, key: str) -> Response:
    history = await views.strategy_history(session, key)
    return render(request, "strategy.html", {"h": history, "timeline": charts.version_timeline(history)})


@router.get("/ui/kpis")
async def kpis_page(request: Request, session: SessionDep, viewer: Analyst) -> Response:
    return render(request, "kpis.html", {"kpis": await views.kpi_list(session)})


@router.get("/ui/kpis/{key}")
async def kpi_page(
    request: Request, session: SessionDep, viewer: Analyst, key: str, at: Annotated[date | None, Query()] = None
) -> Response:
    moment = datetime.combine(at + timedelta(days=1), time(), UTC) - timedelta(microseconds=1) if at else None
    history = await views.kpi_history(session, key, moment)
    return render(request, "kpi.html", {"h": history, "picked": at})


@router.get("/ui/people")
async def people_page(
    request: Request,
    session: SessionDep,
    viewer: Analyst,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    begin, finish = picked_range(start, end)
    rows = await views.people_accountability(session, begin, finish)
    return render(request, "people.html", {"rows": rows, **_range_context(begin, finish)})


@router.get("/ui/people/{handle}")
async def person_page(
    request: Request,
    session: SessionDep,
    viewer: Reader,
    handle: str,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
) -> Response:
    begin, finish = picked_range(start, end)
    view = await views.person_view(session, handle, begin, finish)
    return render(request, "person.html", {"v": view, **_range_context(begin, finish)})


def _range_context(begin: datetime, finish: datetime) -> dict[str, date]:
    return {"picked_from": begin.date(), "picked_to": (finish - timedelta(microseconds=1)).date()}
