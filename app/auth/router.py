"""API key management for admins (the `decision-log keys` commands do the same)."""

import uuid
from typing import Annotated

from fastapi import Path, Response

from app.auth import service
from app.auth.dependencies import AdminCaller
from app.auth.errors import ApiKeyNotFound
from app.auth.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyRead
from app.core.errors import problem_responses
from app.core.routing import SessionDep, domain_router
from app.idempotency.service import Idempotent

router = domain_router(prefix="/keys", tags=["keys"])


@router.post("", status_code=201, operation_id="createApiKey", responses=problem_responses(409, 413, 415, 422))
async def create_api_key(
    data: ApiKeyCreate, session: SessionDep, _: AdminCaller, __: Idempotent, response: Response
) -> ApiKeyCreated:
    """Create a key. The response holds the key itself, shown this once: only its hash is stored.

    With an `Idempotency-Key`, a replay of a request that succeeded does not show the key again: it answers 409
    `secret_not_replayed` with the new key's `Location` (revoke that key if its secret was lost, and create
    another)."""
    record, key = await service.create_key(
        session, name=data.name, scope=data.scope, person=data.person, expires_at=data.expires_at
    )
    response.headers["Location"] = f"/v1/keys/{record.id}"
    return ApiKeyCreated.model_validate({**service.read_model(record), "key": key})


@router.get("", operation_id="listApiKeys", responses=problem_responses())
async def list_api_keys(session: SessionDep, _: AdminCaller) -> list[ApiKeyRead]:
    """Every key, revoked ones included, oldest first; never a secret."""
    return [ApiKeyRead.model_validate(service.read_model(k)) for k in await service.list_keys(session)]


@router.post("/{key_id}/revoke", operation_id="revokeApiKey", responses=problem_responses(404, 422))
async def revoke_api_key(
    key_id: Annotated[uuid.UUID, Path()], session: SessionDep, _: AdminCaller, __: Idempotent
) -> ApiKeyRead:
    """Revoke a key. It stops working at once in this process and within
    `DECISION_LOG_KEY_CACHE_SECONDS` in every other one."""
    record = await service.revoke_key(session, str(key_id))
    if record is None:
        raise ApiKeyNotFound(f"No API key with id {key_id}.")
    return ApiKeyRead.model_validate(service.read_model(record))
