"""The errors of idempotent requests (each carries its status and problem code), and the replay of a stored answer."""

from __future__ import annotations

from fastapi.responses import Response

from app.core.errors import Conflict, Unprocessable


class IdempotencyKeyReused(Unprocessable):
    code = "idempotency_key_reused"
    title = "Idempotency key reused with another request"


class IdempotencyRequestInFlight(Conflict):
    code = "idempotency_request_in_flight"
    title = "A request with this idempotency key is still in flight"


class SecretNotReplayed(Conflict):
    code = "secret_not_replayed"
    title = "The first response carried a secret, which is not shown again"


class IdempotentReplay(Exception):
    """Raised before the handler runs, to answer with the stored response instead."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        super().__init__(status)
        self.status, self.headers, self.body = status, headers, body

    def response(self) -> Response:
        return Response(self.body, status_code=self.status, headers={**self.headers, "Idempotent-Replayed": "true"})
