"""SQL of the webhooks: subscriptions, their messages (claimed with SKIP LOCKED on PostgreSQL) and attempts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of
from app.core.pagination import keyset_page
from app.core.types import AnyRow, table_of
from app.events import repository as events
from app.webhooks.models import Webhook, WebhookAttempt, WebhookMessage

webhook = table_of(Webhook)
message = table_of(WebhookMessage)
attempt = table_of(WebhookAttempt)


async def insert(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(webhook.insert().values(**values))


async def feed_end(session: AsyncSession) -> tuple[int, int]:
    """The feed's last final ``(txid, position)``: where a new subscription starts reading."""
    statement = select(events.event.c.txid, events.event.c.position)
    final = events.horizon(dialect_of(session))
    if final is not None:
        statement = statement.where(final)
    row = (
        await session.execute(statement.order_by(events.event.c.txid.desc(), events.event.c.position.desc()).limit(1))
    ).first()
    return (0, 0) if row is None else (row.txid, row.position)


async def get(session: AsyncSession, webhook_id: uuid.UUID, *, for_update: bool = False) -> AnyRow | None:
    statement = select(webhook).where(webhook.c.id == webhook_id)
    if for_update and dialect_of(session) == "postgresql":
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def list_page(session: AsyncSession, *, limit: int, cursor: str | None) -> tuple[list[AnyRow], str | None]:
    return await keyset_page(
        session, select(webhook), [(webhook.c.id, False)], limit=limit, cursor=cursor, key=lambda row: [str(row.id)]
    )


async def update_webhook(session: AsyncSession, webhook_id: uuid.UUID, values: dict[str, Any]) -> None:
    await session.execute(update(webhook).where(webhook.c.id == webhook_id).values(**values))


async def delete_webhook(session: AsyncSession, webhook_id: uuid.UUID) -> bool:
    await session.execute(delete(attempt).where(attempt.c.webhook_id == webhook_id))
    await session.execute(delete(message).where(message.c.webhook_id == webhook_id))
    result = await session.execute(delete(webhook).where(webhook.c.id == webhook_id).returning(webhook.c.id))
    return result.first() is not None


async def attempts_page(
    session: AsyncSession, webhook_id: uuid.UUID, *, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = (
        select(attempt, message.c.event_type)
        .join(message, message.c.id == attempt.c.message_id)
        .where(attempt.c.webhook_id == webhook_id)
    )
    return await keyset_page(
        session,
        statement,
        [(attempt.c.attempted_at, False), (attempt.c.id, False)],
        limit=limit,
        cursor=cursor,
        key=lambda row: [row.attempted_at.isoformat(), str(row.id)],
    )


async def insert_messages(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(message.insert(), rows)


# ---------------------------------------------------------------------------------------------
# The dispatcher's queries
# ---------------------------------------------------------------------------------------------


async def any_enabled(session: AsyncSession) -> bool:
    return bool(await session.scalar(select(select(webhook.c.id).where(webhook.c.enabled.is_(True)).exists())))


async def enabled_webhooks(session: AsyncSession) -> list[AnyRow]:
    return list((await session.execute(select(webhook).where(webhook.c.enabled.is_(True)))).all())


async def events_after(
    session: AsyncSession, place: tuple[int, int], types: list[str] | None, limit: int
) -> list[AnyRow]:
    """Final events of the feed after ``place``, of ``types`` (None: all), in feed order."""
    e = events.event
    statement = select(e).where(tuple_(e.c.txid, e.c.position) > tuple_(*place))
    final = events.horizon(dialect_of(session))
    if final is not None:
        statement = statement.where(final)
    if types is not None:
        statement = statement.where(e.c.type.in_(types))
    statement = statement.order_by(e.c.txid, e.c.position).limit(limit)
    return list((await session.execute(statement)).all())


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease_until: datetime
) -> tuple[list[AnyRow], dict[uuid.UUID, AnyRow]]:
    """Messages due now of enabled subscriptions, leased until ``lease_until`` (another process leaves them
    alone; if this one dies they are due again then), and their subscriptions by id: one statement claims the
    batch (PostgreSQL skips rows another process has locked; SQLite has one writer), one reads the few
    subscriptions it concerns."""
    due = (
        select(message.c.id)
        .join(webhook, webhook.c.id == message.c.webhook_id)
        .where(message.c.state == "pending", message.c.next_attempt_at <= now, webhook.c.enabled.is_(True))
        .order_by(message.c.next_attempt_at)
        .limit(limit)
    )
    if dialect_of(session) == "postgresql":
        due = due.with_for_update(of=message, skip_locked=True)
    claim = (
        update(message)
        .where(message.c.id.in_(due))
        .values(next_attempt_at=lease_until)
        .returning(message.c.id, message.c.webhook_id, message.c.event_id, message.c.payload, message.c.attempts)
    )
    claimed = list((await session.execute(claim)).all())
    if not claimed:
        return [], {}
    hooks = select(webhook.c.id, webhook.c.url, webhook.c.format, webhook.c.secret_encrypted).where(
        webhook.c.id.in_({row.webhook_id for row in claimed})
    )
    return claimed, {row.id: row for row in (await session.execute(hooks)).all()}


async def record_attempts(
    session: AsyncSession, attempts: list[dict[str, Any]], outcomes: dict[tuple[str, datetime | None], list[Any]]
) -> None:
    """The attempts in the delivery log (one executemany, its statement cached), and their messages' next state:
    one statement for each ``(state, next attempt)`` the batch came to (``outcomes``: the ids of the messages that
    came to it; a batch all delivered is one), not one per message."""
    await session.execute(attempt.insert(), attempts)
    for (state, next_at), ids in outcomes.items():
        await session.execute(
            update(message)
            .where(message.c.id.in_(ids))
            .values(state=state, attempts=message.c.attempts + 1, next_attempt_at=next_at)
        )


async def clear_failing(session: AsyncSession, webhook_ids: list[uuid.UUID]) -> None:
    """The subscriptions that just took a delivery are failing no longer (one statement; none written when none
    was failing)."""
    await session.execute(
        update(webhook)
        .where(webhook.c.id.in_(webhook_ids), webhook.c.failing_since.is_not(None))
        .values(failing_since=None)
    )


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many messages wait for delivery, and when the oldest was made."""
    row = (
        await session.execute(select(func.count(), func.min(message.c.created_at)).where(message.c.state == "pending"))
    ).one()
    oldest = row[1]
    if isinstance(oldest, str):  # SQLite answers an aggregate's timestamp as text
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(row[0]), oldest


def subscribed(types: list[str]) -> list[str] | None:
    return None if "*" in types else types
