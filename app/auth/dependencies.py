from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer

from app.auth.errors import ApiKeyInUrlRefused
from app.auth.ratelimit import RateLimiter
from app.auth.scopes import Scope
from app.auth.service import Caller, authenticate
from app.core.errors import Forbidden, Unauthorized
from app.core.routing import request_session

bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <api key>`")
api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key itself.")
api_key_query = APIKeyQuery(
    name="api_key",
    auto_error=False,
    description="Analytics GETs only, for BI tools that can send a key no other way (e.g. Power BI's Web API "
    "credential). Never logged. Only keys that cannot write (`analytics`, `read`): a URL ends up in browser "
    "histories, proxies and server logs, so a `write` or `admin` key sent this way is refused (403 "
    "`api_key_in_url_refused`); send such a key in a header.",
)


async def authenticated_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    header_key: Annotated[str | None, Security(api_key_header)],
) -> Caller:
    """The caller behind the request's API key (401 when there is none or it is not valid)."""
    key = credentials.credentials if credentials else header_key
    if not key:
        raise Unauthorized("An API key is required: send `Authorization: Bearer <key>` or `X-API-Key`.")
    return await _admitted(request, await authenticate(request_session(request), key))


async def _admitted(request: Request, caller: Caller) -> Caller:
    """The caller, once its request fits in its rate limit."""
    rate_limiter: RateLimiter | None = request.app.state.rate_limiter
    if rate_limiter is not None:
        await rate_limiter.check(caller.key_id)
    request.state.caller = caller
    return caller


async def analytics_caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    header_key: Annotated[str | None, Security(api_key_header)],
    query_key: Annotated[str | None, Security(api_key_query)],
) -> Caller:
    """Like :func:`authenticated_caller`, also taking the key from the ``api_key`` query parameter (a header wins),
    and requiring the ``analytics`` scope. A key that can write is refused in the query parameter."""
    key = credentials.credentials if credentials else header_key
    if not key and query_key:
        caller = await authenticate(request_session(request), query_key)
        if caller.scope.allows(Scope.write):
            raise ApiKeyInUrlRefused(
                f"This key has the `{caller.scope.value}` scope: a key that can write must not travel in a URL, "
                "which browser histories, proxies and logs keep. Send it as `Authorization: Bearer <key>` or "
                "`X-API-Key`, or use an `analytics` key in `api_key`."
            )
        return await _admitted(request, caller)
    if not key:
        raise Unauthorized(
            "An API key is required: send `Authorization: Bearer <key>`, `X-API-Key` or `api_key=<key>`."
        )
    return await _admitted(request, await authenticate(request_session(request), key))


def require_scope(needed: Scope) -> Callable[..., Awaitable[Caller]]:
    """The authenticated caller, 403 unless its key's scope allows ``needed``. It declares the security schemes
    itself rather than through a shared caller dependency: FastAPI solves every level of the tree on each request,
    cached or not."""

    async def dependency(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
        header_key: Annotated[str | None, Security(api_key_header)],
    ) -> Caller:
        caller = await authenticated_caller(request, credentials, header_key)
        if not caller.scope.allows(needed):
            raise Forbidden(f"This operation needs the `{needed.value}` scope; the key has `{caller.scope.value}`.")
        return caller

    return dependency


def request_caller(request: Request) -> Caller:
    """The caller this request's scope dependency admitted. Dependencies that need the caller after the route's
    scope check (idempotency) read it here rather than depending on the check again, which FastAPI would solve
    again down to the security schemes. A route declares its scope dependency before them."""
    caller: Caller | None = getattr(request.state, "caller", None)
    if caller is None:
        raise RuntimeError(f"{request.url.path}: declare the route's caller dependency before those that use it")
    return caller


ReadCaller = Annotated[Caller, Depends(require_scope(Scope.read))]
WriteCaller = Annotated[Caller, Depends(require_scope(Scope.write))]
AdminCaller = Annotated[Caller, Depends(require_scope(Scope.admin))]
AnalyticsCaller = Annotated[Caller, Depends(analytics_caller)]
