"""API keys: generation, hashing and checking.

A key reads ``dlk_<prefix>_<secret>``. The prefix finds the row; the whole key is stored only as
its SHA-256 (the secret has 256 bits of entropy, so a slow hash adds nothing) and compared in
constant time. Successful checks are cached in-process for ``key_cache_seconds``, which bounds
how long a revoked key keeps working in another process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import repository
from app.auth.models import ApiKey
from app.auth.scopes import Scope
from app.core.db import settings_of
from app.core.errors import Unauthorized
from app.core.types import utcnow

KEY_PREFIX = "dlk"


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    name: str
    scope: Scope


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> tuple[str, str]:
    """A new (prefix, full key)."""
    prefix = secrets.token_hex(6)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"


def _parse(key: str) -> str | None:
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1]


_cache: dict[str, tuple[float, str, Caller]] = {}


def forget(prefix: str) -> None:
    _cache.pop(prefix, None)


async def authenticate(session: AsyncSession, key: str) -> Caller:
    prefix = _parse(key)
    if prefix is None:
        raise Unauthorized("The API key is malformed.")
    digest = _hash(key)
    now = time.monotonic()
    cached = _cache.get(prefix)
    if cached is not None and cached[0] > now:
        if hmac.compare_digest(cached[1], digest):
            return cached[2]
        raise Unauthorized("The API key is not valid.")
    row = await repository.by_prefix(session, prefix)
    if row is None or not hmac.compare_digest(row[2], digest):
        raise Unauthorized("The API key is not valid.")
    key_id, name, stored_hash, scope, revoked = row
    if revoked:
        forget(prefix)
        raise Unauthorized("The API key has been revoked.")
    caller = Caller(key_id=key_id, name=name, scope=Scope(scope))
    ttl = settings_of(session).key_cache_seconds
    if ttl > 0:
        _cache[prefix] = (now + ttl, stored_hash, caller)
    return caller


async def create_key(session: AsyncSession, *, name: str, scope: Scope) -> tuple[ApiKey, str]:
    prefix, key = generate_key()
    record = ApiKey(name=name, prefix=prefix, secret_hash=_hash(key), scope=scope.value)
    await repository.add(session, record)
    return record, key


async def revoke_key(session: AsyncSession, key_ref: str) -> ApiKey | None:
    key = await repository.revoke(session, key_ref, utcnow())
    if key is not None:
        forget(key.prefix)
    return key


async def list_keys(session: AsyncSession) -> list[ApiKey]:
    return list(await repository.list_all(session))
