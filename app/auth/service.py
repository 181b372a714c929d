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
from datetime import datetime
from typing import Any

from app.auth import repository
from app.auth.models import ApiKey
from app.auth.scopes import Scope
from app.core.errors import Unauthorized, UnknownReference, Unprocessable
from app.core.types import utcnow
from app.core.unit_of_work import DatabaseSession
from app.people import repository as people

KEY_PREFIX = "dlk"


@dataclass(frozen=True, slots=True)
class Caller:
    key_id: str
    name: str
    scope: Scope
    # The handle of the person the key belongs to, if any.
    person: str | None = None
    expires_at: datetime | None = None

    @property
    def attribution(self) -> str:
        """Who what this caller writes is attributed to: the key's person, else the key's name."""
        return self.person or self.name


def caller_of(row: Any) -> Caller:
    """The caller of a key whose check passed (a row of :data:`repository.KEY_CHECK_COLUMNS`)."""
    return Caller(
        key_id=str(row.id), name=row.name, scope=Scope(row.scope), person=row.person_handle, expires_at=row.expires_at
    )


def refusal(row: Any, now: datetime) -> str | None:
    """Why a key found by its secret no longer authenticates (revoked, expired), or None."""
    if row.revoked_at is not None:
        return "The API key has been revoked."
    if row.expires_at is not None and row.expires_at <= now:
        return "The API key has expired."
    return None


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


async def authenticate(session: DatabaseSession, key: str) -> Caller:
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
    if row is None or not hmac.compare_digest(row.secret_hash, digest):
        raise Unauthorized("The API key is not valid.")
    wall = utcnow()
    refused = refusal(row, wall)
    if refused is not None:
        forget(prefix)
        raise Unauthorized(refused)
    caller = caller_of(row)
    ttl = session.settings.key_cache_seconds
    if row.expires_at is not None:  # never cached past the key's expiry
        ttl = min(ttl, (row.expires_at - wall).total_seconds())
    if ttl > 0:
        _cache[prefix] = (now + ttl, row.secret_hash, caller)
    return caller


async def create_key(
    session: DatabaseSession,
    *,
    name: str,
    scope: Scope,
    person: str | None = None,
    expires_at: datetime | None = None,
    loc: tuple[str, ...] = ("body",),
) -> tuple[ApiKey, str]:
    """A new key (the record, and the key itself, which is not stored). ``person`` must exist (422 naming
    it otherwise); ``expires_at`` must lie in the future."""
    if expires_at is not None and expires_at <= utcnow():
        raise Unprocessable.field([*loc, "expires_at"], "must lie in the future")
    if person is not None and not await people.teams_of(session, {person}):
        raise UnknownReference.field([*loc, "person"], f"unknown person {person!r}")
    prefix, key = generate_key()
    record = ApiKey(
        name=name,
        prefix=prefix,
        secret_hash=_hash(key),
        scope=scope.value,
        person_handle=person,
        expires_at=expires_at,
    )
    await repository.add(session, record)
    return record, key


def read_model(record: ApiKey) -> dict[str, Any]:
    """A key's public fields, as the read model names them (never its hash)."""
    fields = record.model_dump(exclude={"secret_hash", "person_handle"})
    return {**fields, "person": record.person_handle}


def hash_secret(secret: str) -> str:
    """The stored form of a random secret (a key, a session token): its SHA-256, hex."""
    return _hash(secret)


async def revoke_key(session: DatabaseSession, key_ref: str) -> ApiKey | None:
    key = await repository.revoke(session, key_ref, utcnow())
    if key is not None:
        forget(key.prefix)
    return key


async def list_keys(session: DatabaseSession) -> list[ApiKey]:
    return list(await repository.list_all(session))
