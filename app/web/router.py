"""The pages under ``/ui/``: each handler parses, calls one service function and renders a template."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request, Response
from pydantic import StringConstraints, TypeAdapter, ValidationError

from app.analytics.overview import default_range, overview
from app.auth import sessions
from app.auth.scopes import Scope
from app.core.errors import NotFound, Unauthorized, Unprocessable
from app.core.routing import SessionDep
from app.core.types import SLUG_PATTERN, format_utc, utcnow
from app.people.schemas import PersonUpsert
from app.web import charts, forms
from app.web.rendering import PageRoute, language_of, redirect, render
from app.web.session import (
    CSRF_FIELD,
    FORM_COOKIE,
    HOME,
    Analyst,
    check_csrf,
    clear_session_cookie,
    csrf_of,
    current_session,
    form_token,
    safe_next,
    session_token,
    set_session_cookie,
)

router = APIRouter(route_class=PageRoute, include_in_schema=False)

CsrfField = Annotated[str, Form(alias=CSRF_FIELD)]
CurrencyQuery = Annotated[str | None, Query(pattern="^[A-Z]{3}$")]


@router.get("/")
async def root() -> Response:
    return redirect(HOME)


@router.get("/ui")
async def ui_without_slash() -> Response:
    return redirect(HOME)


# --- signing in and out ---------------------------------------------------------------------------------------


@router.get("/ui/sign-in")
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    if await current_session(request) is not None:
        return redirect(safe_next(next))
    return render(request, "sign_in.html", {"next": safe_next(next), "form_token": form_token(request), "error": None})


@router.post("/ui/sign-in")
async def sign_in(
    request: Request,
    session: SessionDep,
    key: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form()] = HOME,
    form_csrf: CsrfField = "",
) -> Response:
    check_csrf(request.cookies.get(FORM_COOKIE), form_csrf)
    try:
        token, page_session = await sessions.start(session, key.strip())
    except Unauthorized as refused:
        context = {"next": safe_next(next), "form_token": form_token(request), "error": refused.detail}
        return render(request, "sign_in.html", context, status=401)
    response = redirect(safe_next(next))
    set_session_cookie(request, response, token, page_session)
    return response


@router.post("/ui/sign-out")
async def sign_out(request: Request, session: SessionDep, form_csrf: CsrfField = "") -> Response:
    token = session_token(request)
    if token and await current_session(request) is not None:
        check_csrf(csrf_of(request), form_csrf)
        await sessions.end(session, token)
    response = redirect("/ui/sign-in")
    clear_session_cookie(request, response)
    return response


# --- the first administrator ----------------------------------------------------------------------------------


@router.get("/ui/setup")
async def setup_page(request: Request, session: SessionDep, token: str = "") -> Response:
    usable = await sessions.sign_in_link_usable(session, token)
    context = {"token": token, "usable": usable, "form_token": form_token(request), "errors": {}, "values": {}}
    return render(request, "setup.html", context, status=200 if usable else 403)


Handle = TypeAdapter(Annotated[str, StringConstraints(pattern=SLUG_PATTERN)])


@router.post("/ui/setup")
async def set_up(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    handle: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    team: Annotated[str, Form()] = "",
    form_csrf: CsrfField = "",
) -> Response:
    check_csrf(request.cookies.get(FORM_COOKIE), form_csrf)
    values = {"handle": handle.strip(), "name": name.strip(), "email": email.strip(), "team": team.strip()}
    language = language_of(request)
    errors = forms.FormErrors()
    try:
        Handle.validate_python(values["handle"])
    except ValidationError as invalid:
        for error in invalid.errors():  # the API takes the handle in the path: no body schema checks it
            errors.add("handle", forms.message(error["type"], "handle", error["msg"], error.get("ctx") or {}, language))
    try:
        person = PersonUpsert.model_validate(
            {"name": values["name"], "email": values["email"] or None, "team": values["team"]}
        )
    except ValidationError as invalid:
        forms.from_validation(invalid, errors, language, ())
    if errors:
        context = {"token": token, "usable": True, "form_token": form_token(request), "errors": errors.fields}
        return render(request, "setup.html", {**context, "values": values}, status=422)
    new_token, page_session, key = await sessions.set_up_first_administrator(session, token, values["handle"], person)
    request.state.page_session = page_session
    response = render(request, "setup_done.html", {"key": key, "person": person, "handle": values["handle"]})
    response.headers["Cache-Control"] = "no-store"
    set_session_cookie(request, response, new_token, page_session)
    return response


# --- the overview ---------------------------------------------------------------------------------------------


def picked_range(start: date | None, end: date | None) -> tuple[datetime, datetime]:
    """The range a reader picks by days (both inclusive), as [from, to) in UTC; default the last 90 days."""
    default_start, default_end = default_range()
    begin = datetime.combine(start, time(), UTC) if start else None
    finish = datetime.combine(end + timedelta(days=1), time(), UTC) if end else None
    if begin is None and finish is None:
        return default_start, default_end
    if finish is None:
        finish = default_end
    if begin is None:
        begin = finish - timedelta(days=90)
    if begin >= finish:
        raise Unprocessable.field(["query", "from"], "the range must start before it ends")
    return begin, finish


def _decisions_link(start: datetime, end: datetime) -> Callable[..., str]:
    """The decisions list behind a figure: the range's decisions, with ``filters``."""

    def link(**filters: str) -> str:
        query = {"decided_from": format_utc(start), "decided_to": format_utc(end), **filters}
        return "/ui/decisions?" + urlencode(query)

    return link


def _preset(days: int) -> str:
    today = utcnow().date()
    return "/ui/?" + urlencode({"from": (today - timedelta(days=days - 1)).isoformat(), "to": today.isoformat()})


@router.get("/ui/")
async def overview_page(
    request: Request,
    session: SessionDep,
    viewer: Analyst,
    start: Annotated[date | None, Query(alias="from")] = None,
    end: Annotated[date | None, Query(alias="to")] = None,
    currency: CurrencyQuery = None,
    sort: Annotated[str, Query(pattern=f"^-?({'|'.join(charts.SORTS)})$")] = "-decisions",
) -> Response:
    begin, finish = picked_range(start, end)
    figures = await overview(session, start=begin, end=finish, currency=currency)
    last_moment = timedelta(microseconds=1)
    return render(
        request,
        "overview.html",
        {
            "o": figures,
            "can_read": viewer.caller.scope.allows(Scope.read),
            "picked_from": begin.date(),
            "picked_to": (finish - last_moment).date(),
            "previous_last": (figures.previous_end - last_moment).date(),
            "iso": format_utc,
            "link": _decisions_link(begin, finish),
            "preset": _preset,
            "sort": sort,
            "owners": charts.sorted_owners(figures.owners, sort),
            "basis_chart": charts.basis_by_month(figures.basis_by_month),
            "budget_chart": charts.basis_by_month(figures.budget_by_month) if figures.currency else None,
            "timeline": charts.strategy_timeline(figures),
        },
    )


fallback = APIRouter(route_class=PageRoute, include_in_schema=False)


@fallback.get("/ui/{unknown:path}")
async def unknown_page(unknown: str) -> Response:
    """Any other address under /ui/: a page saying so, in the reader's language, rather than an API problem."""
    raise NotFound(f"There is no page at /ui/{unknown}.")
