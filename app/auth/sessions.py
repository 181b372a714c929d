"""Sessions of the pages (app/web) and the first administrator's one-time sign-in link.

A session is opened by an API key: the browser holds a random token, the database only its SHA-256, so a
stolen database opens no session and several app processes share them. Each page looks its session up with
its key (one statement), so a session acts with the key's scope and person and stops at once when the key is
revoked or expires, or when the session itself does (``DECISION_LOG_SESSION_HOURS``).

While the database holds no key at all, ``decision-log serve`` makes a sign-in link for the first
administrator: a random token, only its hash kept, valid once and for ``DECISION_LOG_SIGN_IN_LINK_MINUTES``.
Using it records the administrator as a person, gives them an ``admin`` key bound to them, and signs them in.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from app.auth import repository
from app.auth.errors import SignInLinkNotUsable
from app.auth.scopes import Scope
from app.auth.service import Caller, authenticate, caller_of, create_key, hash_secret, refusal
from app.core.types import new_id, utcnow
from app.core.unit_of_work import DatabaseSession
from app.people import service as people
from app.people.schemas import PersonUpsert


@dataclass(frozen=True, slots=True)
class PageSession:
    """A signed-in session: who acts (the key's caller) and until when."""

    id: str
    caller: Caller
    person_name: str | None
    expires_at: datetime
    # Signed in by the authenticating proxy in front of the service (single sign-on), not by a cookie: signing
    # out happens there.
    via_proxy: bool = False
    # What the session's CSRF tokens derive from (a proxy's session has no token of its own): never sent.
    csrf_secret: str = ""


async def start(session: DatabaseSession, key: str) -> tuple[str, PageSession]:
    """A new session for the holder of ``key`` (401 when the key does not authenticate): its token, to be
    given to the browser once, and the session."""
    caller = await authenticate(session, key)
    return await _open(session, caller)


async def _open(session: DatabaseSession, caller: Caller, person_name: str | None = None) -> tuple[str, PageSession]:
    now = utcnow()
    hours = session.settings.session_hours
    expires_at = now + timedelta(hours=hours)
    if caller.expires_at is not None:
        expires_at = min(expires_at, caller.expires_at)
    token = secrets.token_urlsafe(32)
    session_id = new_id()
    await repository.delete_expired_sessions(session, now)
    await repository.add_session(
        session,
        {
            "id": session_id,
            "token_hash": hash_secret(token),
            "key_id": uuid.UUID(caller.key_id),
            "created_at": now,
            "expires_at": expires_at,
        },
    )
    return token, PageSession(id=str(session_id), caller=caller, person_name=person_name, expires_at=expires_at)


async def resolve(session: DatabaseSession, token: str) -> PageSession | None:
    """The session of this token, or None when there is none, it has ended, or its key no longer works."""
    row = await repository.session_by_hash(session, hash_secret(token))
    now = utcnow()
    if row is None or row.session_expires_at <= now or refusal(row, now) is not None:
        return None
    return PageSession(
        id=str(row.session_id), caller=caller_of(row), person_name=row.person_name, expires_at=row.session_expires_at
    )


async def from_proxy(session: DatabaseSession, identity: str) -> PageSession | None:
    """The session of a user an authenticating proxy names (by handle or e-mail): they act with their own key,
    the working one of widest scope. None when no active person with a working key answers to ``identity``."""
    now = utcnow()
    row = await repository.key_of_person(session, identity.strip(), now)
    if row is None:
        return None
    hours = session.settings.session_hours
    expires_at = min(now + timedelta(hours=hours), row.expires_at or now + timedelta(hours=hours))
    return PageSession(
        id=f"proxy:{row.id}",
        caller=caller_of(row),
        person_name=row.person_name,
        expires_at=expires_at,
        via_proxy=True,
        csrf_secret=f"proxy:{row.secret_hash}:{row.person_handle}",
    )


async def end(session: DatabaseSession, token: str) -> None:
    await repository.delete_session(session, hash_secret(token))


async def new_sign_in_link(session: DatabaseSession) -> str | None:
    """A one-time sign-in token for the first administrator while the database holds no key (None otherwise);
    any earlier link stops working."""
    if await repository.any_key(session):
        return None
    now = utcnow()
    token = secrets.token_urlsafe(32)
    minutes = session.settings.sign_in_link_minutes
    await repository.replace_sign_in_links(
        session, {"token_hash": hash_secret(token), "created_at": now, "expires_at": now + timedelta(minutes=minutes)}
    )
    return token


async def sign_in_link_usable(session: DatabaseSession, token: str) -> bool:
    """Whether the link still signs someone in: unused, unexpired, and still no key in the database."""
    if not token or await repository.any_key(session):
        return False
    return await repository.sign_in_link_usable(session, hash_secret(token), utcnow())


async def set_up_first_administrator(
    session: DatabaseSession, token: str, handle: str, person: PersonUpsert
) -> tuple[str, PageSession, str]:
    """Use the sign-in link: record the administrator as a person, create their ``admin`` key and sign them in.
    Returns the session's token, the session and the key (shown once). 403 when the link is not usable (used,
    expired, or a key exists by now)."""
    if await repository.any_key(session) or not await repository.use_sign_in_link(
        session, hash_secret(token), utcnow()
    ):
        raise SignInLinkNotUsable(
            "This sign-in link has been used or has expired, or an API key exists already: sign in with a key."
        )
    await people.upsert_person(session, handle, person)
    record, key = await create_key(session, name=f"{handle} (first administrator)", scope=Scope.admin, person=handle)
    caller = Caller(key_id=str(record.id), name=record.name, scope=Scope.admin, person=handle)
    session_token, page_session = await _open(session, caller, person.name)
    return session_token, page_session, key
