"""Request guards that act before any body is parsed."""

from __future__ import annotations

import asyncio
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import (
    FieldError,
    Overloaded,
    PayloadTooLarge,
    ServiceUnavailable,
    Unprocessable,
    UnsupportedMediaType,
    render,
)

BODY_METHODS = {"POST", "PUT", "PATCH"}


class CutOffAsUnavailable:
    """A request cancelled before it could answer (on SIGTERM, once the shutdown grace period is
    over) answers 503 with ``Retry-After`` and ``Connection: close``, rather than the server's bare
    500: its transaction was rolled back, and the client should retry, on another instance."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except asyncio.CancelledError:
            if started:
                raise
            response = render(ServiceUnavailable("The service is shutting down; retry shortly."))
            response.headers["Connection"] = "close"
            await response(scope, receive, send)


class ConcurrencyLimit:
    """At most ``limit`` requests in progress at once in this process; one more is answered 503
    ``overloaded`` with ``Retry-After`` at once, before its body is read, instead of queueing
    without bound (so memory stays flat under overload). Health probes and metrics are exempt:
    they must answer most when the service is busiest."""

    def __init__(self, app: ASGIApp, *, limit: int, exempt: frozenset[str] = frozenset()) -> None:
        self.app = app
        self.limit = limit
        self.exempt = exempt
        self.in_progress = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        if self.in_progress >= self.limit:
            error = Overloaded(f"The service has {self.limit} requests in progress, its limit; retry shortly.")
            await render(error)(scope, receive, send)
            return
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1


class BodyGuard:
    """Refuse bodies over ``max_bytes`` (413), counted as they arrive so chunked uploads are
    caught too, and non-JSON bodies on JSON endpoints (415), before the app parses anything. The pages'
    forms (``/ui/``) get the size limit alone."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, prefix: str = "/v1/", forms_prefix: str = "/ui/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix
        self.forms_prefix = forms_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        forms = scope["path"].startswith(self.forms_prefix)  # the pages' forms: the size limit alone
        if not forms and not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await render(self._too_large())(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await render(self._too_large())(scope, receive, send)
                return
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if forms:
            await self.app(scope, _replaying(bytes(body), receive), send)
            return
        if body and not (content_type == b"application/json" or content_type.endswith(b"+json")):
            error = UnsupportedMediaType("Send the request body as JSON with `Content-Type: application/json`.")
            await render(error)(scope, receive, send)
            return

        problem = _body_problem(bytes(body)) if body else None
        if problem is not None:
            await render(problem)(scope, receive, send)
            return

        await self.app(scope, _replaying(bytes(body), receive), send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body exceeds the limit of {self.max_bytes} bytes.")


def _replaying(body: bytes, receive: Receive) -> Receive:
    """``receive`` that gives the body already read, then whatever comes next (a disconnect)."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


MAX_JSON_DEPTH = 32
# A JSON string, the loop unrolled (runs of plain characters at once, not one alternation per character).
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")


def _depth(body: bytes) -> int:
    """How deep the brackets outside strings nest. Each round drops every innermost pair in C, so a large but
    shallow body costs a few passes rather than a Python loop over its brackets; a body still not empty after
    MAX_JSON_DEPTH + 1 rounds (too deep, or unbalanced) is counted exactly."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    removed = 0  # levels dropped so far
    while brackets and removed <= MAX_JSON_DEPTH:
        shorter = _INNERMOST_PAIR.sub(b"", brackets)
        if len(shorter) == len(brackets):
            break
        brackets, removed = shorter, removed + 1
    depth = deepest = removed
    for bracket in brackets:
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
    return deepest


def _body_problem(body: bytes) -> Unprocessable | None:
    """Bodies no endpoint should try to parse: not UTF-8, or nested deeper than any schema."""
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return Unprocessable(
            "The request body is not valid UTF-8 JSON.",
            errors=[FieldError(loc=["body"], msg="not valid UTF-8", type="json_invalid")],
        )
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return None
    deepest = _depth(body)
    if deepest > MAX_JSON_DEPTH:
        return Unprocessable(
            f"The request body nests JSON {deepest} levels deep; at most {MAX_JSON_DEPTH} are accepted.",
            errors=[
                FieldError(loc=["body"], msg=f"JSON nested deeper than {MAX_JSON_DEPTH} levels", type="json_too_deep")
            ],
        )
    return None


class SecurityHeaders:
    """Headers every response carries: no MIME sniffing, no framing, no referrer; API answers
    (``/v1``) are also never cached and may load nothing. The pages (``/ui``, and ``/`` which leads there) load
    scripts, styles and images from the service alone, never inline, and are not cached (they show the signed-in
    reader's data); their static files, addressed by content hash, are cached for good."""

    COMMON = (
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"no-referrer"),
    )
    API = (
        (b"cache-control", b"no-store"),
        (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
    )

    PAGES = (
        (b"cache-control", b"no-store"),
        (
            b"content-security-policy",
            b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
            b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    )
    STATIC = ((b"cache-control", b"public, max-age=31536000, immutable"),)
    STATIC_UNVERSIONED = ((b"cache-control", b"no-cache"),)

    def __init__(
        self, app: ASGIApp, *, api_prefix: str = "/v1/", pages_prefix: str = "/ui", static_prefix: str = "/ui/static/"
    ) -> None:
        self.app = app
        self.api_prefix = api_prefix
        self.pages_prefix = pages_prefix
        self.static_prefix = static_prefix

    def _extra(self, scope: Scope) -> tuple[tuple[bytes, bytes], ...]:
        path: str = scope["path"]
        if path.startswith(self.api_prefix):
            return self.COMMON + self.API
        if path.startswith(self.static_prefix):
            versioned = b"v=" in scope.get("query_string", b"")
            return self.COMMON + (self.STATIC if versioned else self.STATIC_UNVERSIONED)
        if path.startswith(self.pages_prefix) or path == "/":
            return self.COMMON + self.PAGES
        return self.COMMON

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._extra(scope)

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *(h for h in extra if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class KeepPeer:
    """Keeps the address of the connection's peer in the request's state (``peer``) before the proxy headers
    replace the client's address with the one the proxy forwarded: single sign-on believes a user header only
    from the proxy itself (app/web/session.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            client = scope.get("client")
            scope.setdefault("state", {})["peer"] = client[0] if client else None
        await self.app(scope, receive, send)
