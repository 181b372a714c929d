"""Request guards that act before any body is parsed."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import FieldError, PayloadTooLarge, Unprocessable, UnsupportedMediaType, render

BODY_METHODS = {"POST", "PUT", "PATCH"}


class BodyGuard:
    """Refuse bodies over ``max_bytes`` (413), counted as they arrive so chunked uploads are
    caught too, and non-JSON bodies on JSON endpoints (415), before the app parses anything."""

    def __init__(self, app: ASGIApp, *, max_bytes: int, prefix: str = "/v1/") -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or not scope["path"].startswith(self.prefix):
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
        if body and not (content_type == b"application/json" or content_type.endswith(b"+json")):
            error = UnsupportedMediaType("Send the request body as JSON with `Content-Type: application/json`.")
            await render(error)(scope, receive, send)
            return

        if body:
            try:
                body.decode("utf-8")
            except UnicodeDecodeError:
                error = Unprocessable(
                    "The request body is not valid UTF-8 JSON.",
                    errors=[FieldError(loc=["body"], msg="not valid UTF-8", type="json_invalid")],
                )
                await render(error)(scope, receive, send)
                return

        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> PayloadTooLarge:
        return PayloadTooLarge(f"The request body exceeds the limit of {self.max_bytes} bytes.")
