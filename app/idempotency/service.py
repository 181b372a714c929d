"""``Idempotency-Key`` on every POST (IETF draft, Stripe's semantics).

- the same key and body again → the first response replayed (status, body, ``Location``,
  ``ETag``), with ``Idempotent-Replayed: true``;
- the same key with another body (or another endpoint) → 422 ``idempotency_key_reused``;
- a duplicate that arrives while the first is still running waits for it and replays its
  response (or runs, if the first failed);
- keys are scoped per API key and kept ``idempotency_ttl_hours`` (at least 24 hours).

The record is claimed and its response stored in the request's own transaction, so the write
and its stored response commit, or vanish, together. Only successful responses are stored: a
refused request may be corrected and retried with the same key.

A response that carries a secret shown once (a new API key: :mod:`app.core.secrets`) is stored without
its body: the secret is kept nowhere. A replay of such a request answers 409 ``secret_not_replayed``
with the ``Location`` of what the first request created (revoke it, if its secret was lost, and
create another), never the secret.

A route declares :data:`Idempotent` after its caller dependency: the claim is scoped to the caller that
dependency admitted.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Header, Request, Response

from app.auth.dependencies import request_caller
from app.core.errors import FieldError
from app.core.routing import request_session
from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.idempotency import repository
from app.idempotency.errors import IdempotencyKeyReused, IdempotencyRequestInFlight, IdempotentReplay, SecretNotReplayed

REPLAYED_HEADERS = ("content-type", "location", "etag", "link")


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    api_key_id: uuid.UUID
    key: str

    async def store(self, session: DatabaseSession, response: Response, *, keep_body: bool = True) -> None:
        """Keep ``response`` for replays; its status and headers alone (the body NULL) without ``keep_body``."""
        headers = {name: value for name, value in response.headers.items() if name in REPLAYED_HEADERS}
        body = bytes(response.body) if keep_body else None
        await repository.store_response(
            session, self.api_key_id, self.key, status=response.status_code, headers=headers, body=body
        )


def _fingerprint(request: Request, body: bytes) -> str:
    digest = hashlib.sha256(f"{request.method} {request.url.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


async def idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            min_length=1,
            max_length=255,
            pattern=r"^[\x21-\x7e]+$",
            description="Makes the POST safe to retry: the same key and body replay the first response "
            "(`Idempotent-Replayed: true`); the same key with another body → 422. Kept at least 24 hours, "
            "per API key.",
        ),
    ] = None,
) -> IdempotencyClaim | None:
    if idempotency_key is None:
        return None
    return await claim(request, idempotency_key)


async def claim(request: Request, idempotency_key: str) -> IdempotencyClaim:
    """Claim ``idempotency_key`` for this request (its caller, method, path and body), in its transaction; raise
    :class:`IdempotentReplay` when a request with the same key and body has already been answered (the pages'
    forms, whose key is a hidden field, use this too)."""
    session = request_session(request)
    api_key_id = uuid.UUID(request_caller(request).key_id)
    fingerprint = _fingerprint(request, await request.body())
    now = utcnow()
    values = {
        "fingerprint": fingerprint,
        "created_at": now,
        "expires_at": now + timedelta(hours=session.settings.idempotency_ttl_hours),
        "response_status": None,
        "response_headers": None,
        "response_body": None,
    }
    claimed = await repository.claim(session, {"api_key_id": api_key_id, "key": idempotency_key, **values})
    if not claimed:
        claimed = await repository.reclaim_expired(session, api_key_id, idempotency_key, now, values)
    if not claimed:
        stored = await repository.get(session, api_key_id, idempotency_key)
        assert stored is not None
        if stored.fingerprint != fingerprint:
            raise IdempotencyKeyReused(
                "This Idempotency-Key was used with another request body or endpoint; use a new key.",
                errors=[
                    FieldError(
                        loc=["header", "Idempotency-Key"],
                        msg="used with another request body or endpoint",
                        type="idempotency_key_reused",
                    )
                ],
            )
        if stored.response_status is None:
            raise IdempotencyRequestInFlight("The first request with this Idempotency-Key has not finished; retry.")
        if stored.response_body is None:
            raise _secret_not_replayed(stored.response_status, stored.response_headers or {})
        raise IdempotentReplay(stored.response_status, stored.response_headers or {}, stored.response_body)
    claim = IdempotencyClaim(api_key_id, idempotency_key)
    request.state.idempotency = claim
    return claim


def _secret_not_replayed(status: int, headers: dict[str, str]) -> SecretNotReplayed:
    location = headers.get("location")
    created = f" It created {location}." if location else ""
    return SecretNotReplayed(
        f"The first request with this Idempotency-Key succeeded ({status}), and its response carried a secret, "
        f"which is shown once and stored nowhere, so it cannot be shown again.{created} If the secret was lost, "
        "revoke what was created and create another.",
        headers={"Idempotent-Replayed": "true", **({"Location": location} if location else {})},
        first_status=status,
        location=location,
    )


Idempotent = Annotated[IdempotencyClaim | None, Depends(idempotency)]
