"""RFC 9457 problem details: one error shape for every failure the API reports.

Domain code raises subclasses of :class:`AppError` (each carries its status and a stable
machine ``code``); the handlers here render them, FastAPI's validation errors, Starlette's
HTTP errors and database faults as ``application/problem+json``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, ClassVar

import asyncpg  # type: ignore[import-untyped]
from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match, Mount

from app.core.config import get_settings
from app.core.observability import CLIENT_CLOSED_REQUEST

logger = logging.getLogger("app.errors")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://decision-log.dev/problems/"


class FieldError(BaseModel):
    loc: list[str | int] = Field(
        description="Where the error is: `body`, `query`, `path` or `header`, then the field path."
    )
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(examples=[PROBLEM_BASE + "decision_not_found"])
    title: str = Field(examples=["Decision not found"])
    status: int = Field(examples=[404])
    detail: str | None = None
    code: str = Field(description="Stable machine-readable error code.", examples=["decision_not_found"])
    request_id: str | None = None
    errors: list[FieldError] | None = Field(default=None, description="Field-level validation errors.")


class AppError(Exception):
    """A failure the API reports on purpose. Subclasses set ``status``, ``code`` and ``title``."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = list(errors) if errors else None
        self.headers = headers
        self.extra = extra


class NotFound(AppError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(AppError):
    status = 409
    code = "conflict"
    title = "Conflict"


class Unprocessable(AppError):
    status = 422
    code = "validation_failed"
    title = "Request is not valid"

    @classmethod
    def field(cls, loc: Sequence[str | int], msg: str, type_: str = "value_error") -> Unprocessable:
        return cls(msg, errors=[FieldError(loc=list(loc), msg=msg, type=type_)])


class UnknownReference(Unprocessable):
    """A body names a person, data source, strategy or KPI that does not exist."""

    code = "unknown_reference"
    title = "Unknown reference"

    @classmethod
    def field(cls, loc: Sequence[str | int], msg: str, type_: str = "unknown_reference") -> Unprocessable:
        return super().field(loc, msg, type_)


class PreconditionFailed(AppError):
    status = 412
    code = "precondition_failed"
    title = "Precondition failed"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="decision-log"'})


class Forbidden(AppError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class PayloadTooLarge(AppError):
    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedMediaType(AppError):
    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class ServiceUnavailable(AppError):
    status = 503
    code = "service_unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str | None = None) -> None:
        retry = str(get_settings().retry_after_seconds)
        super().__init__(detail, headers={"Retry-After": retry})


class Overloaded(ServiceUnavailable):
    """More requests in progress than the process takes at once."""

    code = "overloaded"
    title = "Too many requests in progress"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str | None = None,
    *,
    errors: Sequence[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    extra: dict[str, Any] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code,
        "title": title,
        "status": status,
        "detail": detail if detail is not None else title,
        "code": code,
        "request_id": correlation_id.get(),
    }
    if errors:
        body["errors"] = [e.model_dump() for e in errors]
    if extra:
        body.update(extra)
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def render(error: AppError) -> JSONResponse:
    return problem_response(
        error.status,
        error.code,
        error.title,
        error.detail,
        errors=error.errors,
        headers=error.headers,
        extra=error.extra,
    )


_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    412: "precondition_failed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
    503: "service_unavailable",
}


# The methods a 405's Allow header may name.
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette reports only the first route's): those a route
    matches in full, asked of each route (mounts, which take any method, aside)."""
    routes = [route for route in request.app.routes if not isinstance(route, Mount)]
    return sorted(
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    )


def _loc(loc: Sequence[Any]) -> list[str | int]:
    return [part if isinstance(part, int) else str(part) for part in loc]


def validation_errors(raw: Sequence[Any]) -> list[FieldError]:
    return [FieldError(loc=_loc(e.get("loc", ())), msg=str(e.get("msg", "")), type=str(e.get("type", ""))) for e in raw]


# SQLSTATEs by which the database refuses a value the client sent: text with a NUL character or
# not encodable (22021, 22P05), too long (22001), a number or timestamp out of range (22003, 22008).
_BAD_VALUE_SQLSTATES = {"22021", "22P05", "22001", "22003", "22008"}


def _is_bad_value(error: BaseException) -> bool:
    """A value refused by the database, through SQLAlchemy or straight from the driver (app.core.driver)."""
    if isinstance(error, sa_exc.DBAPIError):
        error = getattr(error, "orig", None) or error
    return getattr(error, "sqlstate", None) in _BAD_VALUE_SQLSTATES


# SQLSTATEs by which the database says it cannot serve now: a connection exception (class 08), a
# lack of resources such as too many connections (53), shutting down, crashed or starting up (57P01
# to 57P03), a statement cancelled by the statement timeout (57014).
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P", "57014")
# asyncpg's own connection and cancellation errors, when they escape SQLAlchemy's wrapping.
_UNAVAILABLE_NAMES = {
    "ConnectionDoesNotExistError",
    "CannotConnectNowError",
    "QueryCanceledError",
    "InterfaceError",
    "ConnectionFailureError",
    "AdminShutdownError",
}


def _causes(error: BaseException) -> list[BaseException]:
    """The error, the driver's error it wraps, and what caused those."""
    seen: list[BaseException] = []
    pending: list[BaseException | None] = [error]
    while pending and len(seen) < 8:
        cause = pending.pop()
        if cause is None or any(cause is s for s in seen):
            continue
        seen.append(cause)
        pending += [getattr(cause, "orig", None), cause.__cause__, cause.__context__]
    return seen


def _is_db_unavailable(error: BaseException) -> bool:
    for cause in _causes(error):
        if isinstance(cause, sa_exc.TimeoutError | sa_exc.OperationalError | sa_exc.InterfaceError):
            return True
        if isinstance(cause, sa_exc.DBAPIError) and cause.connection_invalidated:
            return True
        if isinstance(cause, TimeoutError | ConnectionError | OSError):
            return True
        sqlstate = getattr(cause, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
            return True
        if type(cause).__name__ in _UNAVAILABLE_NAMES:
            return True
    return False


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(AppError)
    async def _app_error(_: Request, error: AppError) -> JSONResponse:
        return render(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, error: RequestValidationError) -> JSONResponse:
        errors = validation_errors(error.errors())
        first = errors[0] if errors else None
        detail = f"{'.'.join(map(str, first.loc))}: {first.msg}" if first else "The request is not valid."
        return problem_response(422, "validation_failed", "Request is not valid", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "http_error")
        title = HTTPStatus(error.status_code).phrase
        detail = error.detail if isinstance(error.detail, str) else title
        headers = dict(getattr(error, "headers", None) or {})
        if error.status_code == 400 and detail == "There was an error parsing the body":
            # FastAPI's answer to a body it cannot decode: a validation error like any other.
            errors = [FieldError(loc=["body"], msg="The request body is not valid JSON.", type="json_invalid")]
            return problem_response(422, "validation_failed", "Request is not valid", errors[0].msg, errors=errors)
        if error.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return problem_response(error.status_code, code, title, detail, headers=headers or None)

    async def _integrity(_: Request, error: Exception) -> JSONResponse:
        logger.warning("integrity error not mapped by the service: %s", getattr(error, "orig", error))
        return problem_response(409, "conflict", "Conflict", "The request conflicts with the stored state.")

    # The same errors through SQLAlchemy and straight from the driver (app.core.driver).
    app.add_exception_handler(sa_exc.IntegrityError, _integrity)
    app.add_exception_handler(asyncpg.IntegrityConstraintViolationError, _integrity)

    async def _database(_: Request, error: Exception) -> JSONResponse:
        if _is_bad_value(error):
            logger.info("value refused by the database: %s", getattr(error, "orig", error))
            return problem_response(
                422,
                "validation_failed",
                "Request is not valid",
                "A value in the request cannot be stored: text must not contain NUL (\\u0000) characters, "
                "and numbers, timestamps and text must be within range.",
            )
        if _is_db_unavailable(error):
            logger.warning("database unavailable: %s: %s", type(error).__name__, error)
            return render(ServiceUnavailable("The database is unavailable; retry shortly."))
        logger.exception("database error")
        return _internal()

    for kind in (
        sa_exc.DBAPIError,
        sa_exc.EmulatedDBAPIException,
        sa_exc.TimeoutError,
        asyncpg.PostgresError,
        asyncpg.InterfaceError,
        OSError,
        TimeoutError,
    ):
        app.add_exception_handler(kind, _database)

    @app.exception_handler(ClientDisconnect)
    async def _client_gone(_: Request, __: ClientDisconnect) -> Response:
        # Reading the body failed because the client closed the connection: nobody is left to answer, and it is not
        # a server error. The request line counts it as such too (app.core.observability).
        return Response(status_code=CLIENT_CLOSED_REQUEST)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return _internal()


def _internal() -> JSONResponse:
    return problem_response(
        500, "internal_error", "Internal server error", "An unexpected error occurred; it has been logged."
    )


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem+json answers."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 401, 403, 429, 503}):
        out[status] = {
            "model": Problem,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return out
