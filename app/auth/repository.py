import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from app.auth.models import ApiKey, SignInLink, WebSession
from app.core.types import AnyRow, table_of
from app.people.models import Person


async def add(session: AsyncSession, key: ApiKey) -> None:
    session.add(key)
    await session.flush()


KEY_CHECK_COLUMNS = ("id", "name", "secret_hash", "scope", "revoked_at", "person_handle", "expires_at")


async def by_prefix(session: AsyncSession, prefix: str) -> AnyRow | None:
    """The columns a key check reads (:data:`KEY_CHECK_COLUMNS`) of the key with this public prefix."""
    table = table_of(ApiKey)
    statement = select(*(table.c[name] for name in KEY_CHECK_COLUMNS)).where(table.c.prefix == prefix)
    return (await session.execute(statement)).first()


async def any_key(session: AsyncSession) -> bool:
    """Whether the database holds any key at all, revoked or expired ones included."""
    return (await session.execute(select(table_of(ApiKey).c.id).limit(1))).first() is not None


async def list_all(session: AsyncSession) -> Sequence[ApiKey]:
    return (await session.execute(select(ApiKey).order_by(col(ApiKey.created_at), col(ApiKey.id)))).scalars().all()


async def revoke(session: AsyncSession, key_ref: str, at: datetime) -> ApiKey | None:
    """Revoke by id, prefix or name; returns the key, or None when nothing matches."""
    candidates = (
        (await session.execute(select(ApiKey).where((col(ApiKey.prefix) == key_ref) | (col(ApiKey.name) == key_ref))))
        .scalars()
        .all()
    )
    if not candidates:
        try:
            by_id = await session.get(ApiKey, uuid.UUID(key_ref))
        except ValueError:
            return None
        candidates = [by_id] if by_id else []
    if len(candidates) != 1:
        return None
    key = candidates[0]
    if key.revoked_at is None:
        await session.execute(update(ApiKey).where(col(ApiKey.id) == key.id).values(revoked_at=at))
        key.revoked_at = at
    return key


# --- the pages' sessions and the first administrator's sign-in link -------------------------------------------

web_session = table_of(WebSession)
sign_in_link = table_of(SignInLink)
api_key = table_of(ApiKey)
person = table_of(Person)


async def add_session(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(web_session.insert().values(**values))


async def session_by_hash(session: AsyncSession, token_hash: str) -> AnyRow | None:
    """A page session with its key's check columns (:data:`KEY_CHECK_COLUMNS`) and its person's name, in one
    statement: ``session_id``, ``session_expires_at``, the key's columns, ``person_name``."""
    statement = (
        select(
            web_session.c.id.label("session_id"),
            web_session.c.expires_at.label("session_expires_at"),
            *(api_key.c[name] for name in KEY_CHECK_COLUMNS),
            person.c.name.label("person_name"),
        )
        .select_from(web_session)
        .join(api_key, api_key.c.id == web_session.c.key_id)
        .outerjoin(person, person.c.handle == api_key.c.person_handle)
        .where(web_session.c.token_hash == token_hash)
    )
    return (await session.execute(statement)).first()


async def delete_session(session: AsyncSession, token_hash: str) -> None:
    await session.execute(delete(web_session).where(web_session.c.token_hash == token_hash))


async def delete_expired_sessions(session: AsyncSession, now: datetime) -> None:
    await session.execute(delete(web_session).where(web_session.c.expires_at <= now))


async def replace_sign_in_links(session: AsyncSession, values: dict[str, Any]) -> None:
    """The one sign-in link: any earlier one stops working."""
    await session.execute(delete(sign_in_link))
    await session.execute(sign_in_link.insert().values(**values))


async def sign_in_link_usable(session: AsyncSession, token_hash: str, now: datetime) -> bool:
    statement = select(sign_in_link.c.token_hash).where(
        sign_in_link.c.token_hash == token_hash, sign_in_link.c.used_at.is_(None), sign_in_link.c.expires_at > now
    )
    return (await session.execute(statement)).first() is not None


async def use_sign_in_link(session: AsyncSession, token_hash: str, now: datetime) -> bool:
    """Mark the link used; False when it was not usable (used already, expired, unknown): a link works once,
    however many requests race for it."""
    result = await session.execute(
        update(sign_in_link)
        .where(
            sign_in_link.c.token_hash == token_hash, sign_in_link.c.used_at.is_(None), sign_in_link.c.expires_at > now
        )
        .values(used_at=now)
    )
    return result.rowcount == 1  # type: ignore[attr-defined,no-any-return]


async def key_of_person(session: AsyncSession, identity: str, now: datetime) -> AnyRow | None:
    """The working key (not revoked, not expired) of the active person whose handle or e-mail is ``identity``,
    the one of widest scope (the newest among equals), with its check columns and the person's name."""
    rank = case({"admin": 4, "write": 3, "read": 2, "analytics": 1}, value=api_key.c.scope, else_=0)
    statement = (
        select(*(api_key.c[name] for name in KEY_CHECK_COLUMNS), person.c.name.label("person_name"))
        .join(person, person.c.handle == api_key.c.person_handle)
        .where(
            or_(person.c.handle == identity, func.lower(person.c.email) == identity.lower()),
            person.c.active.is_(True),
            api_key.c.revoked_at.is_(None),
            or_(api_key.c.expires_at.is_(None), api_key.c.expires_at > now),
        )
        .order_by(rank.desc(), api_key.c.created_at.desc())
        .limit(1)
    )
    return (await session.execute(statement)).first()
