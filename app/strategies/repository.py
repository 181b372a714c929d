from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, insert_or_nothing
from app.core.pagination import keyset_page
from app.core.types import AnyRow, UtcDateTime, table_of
from app.strategies.models import Strategy, StrategyVersion

strategy = table_of(Strategy)
version = table_of(StrategyVersion)


def _current_version(at: datetime) -> Any:
    return (
        select(func.max(version.c.number))
        .where(version.c.strategy_key == strategy.c.key, version.c.effective_from <= at)
        .scalar_subquery()
        .label("current_version")
    )


async def insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert; False when the key is taken."""
    statement = insert_or_nothing(dialect_of(session), strategy, strategy.c.key)
    return (await session.execute(statement, values)).first() is not None


async def get(session: AsyncSession, key: str, at: datetime) -> AnyRow | None:
    statement = select(strategy, _current_version(at)).where(strategy.c.key == key)
    return (await session.execute(statement)).first()


async def list_page(
    session: AsyncSession, at: datetime, *, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = select(strategy, _current_version(at))
    return await keyset_page(
        session, statement, [(strategy.c.key, False)], limit=limit, cursor=cursor, key=lambda row: [row.key]
    )


async def claim_next_number(session: AsyncSession, key: str, effective_from: datetime) -> int | None:
    """Number the next version of ``key``, locking the strategy row until commit.

    None when the strategy does not exist or ``effective_from`` precedes the latest version's.
    """
    result = await session.execute(
        update(strategy)
        .where(
            strategy.c.key == key,
            or_(strategy.c.latest_effective_from.is_(None), strategy.c.latest_effective_from <= effective_from),
        )
        .values(version_count=strategy.c.version_count + 1, latest_effective_from=effective_from)
        .returning(strategy.c.version_count)
    )
    number: int | None = result.scalar()
    return number


async def latest_effective_from(session: AsyncSession, key: str) -> tuple[bool, datetime | None]:
    row = (await session.execute(select(strategy.c.latest_effective_from).where(strategy.c.key == key))).first()
    return (row is not None, row.latest_effective_from if row else None)


async def insert_version(session: AsyncSession, values: dict[str, Any]) -> None:
    """Insert a version numbered by :func:`claim_next_number`; its ``created_at`` stamps the strategy."""
    await session.execute(version.insert().values(**values))
    await session.execute(
        update(strategy).where(strategy.c.key == values["strategy_key"]).values(updated_at=values["created_at"])
    )


async def get_version(session: AsyncSession, key: str, number: int) -> AnyRow | None:
    statement = select(version).where(version.c.strategy_key == key, version.c.number == number)
    return (await session.execute(statement)).first()


async def versions_page(
    session: AsyncSession, key: str, *, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = select(version).where(version.c.strategy_key == key)
    return await keyset_page(
        session, statement, [(version.c.number, False)], limit=limit, cursor=cursor, key=lambda row: [row.number]
    )


async def versions_between(session: AsyncSession, start: datetime, end: datetime) -> list[AnyRow]:
    """Every strategy's versions with ``effective_from`` in [start, end), each with the previous version's
    ``effective_from`` (``previous_effective_from``, which may lie before ``start``) and its strategy's title;
    by strategy key, then number."""
    previous = type_coerce(
        func.lag(version.c.effective_from).over(partition_by=version.c.strategy_key, order_by=version.c.number),
        UtcDateTime,
    )
    ranked = select(version, previous.label("previous_effective_from")).where(version.c.effective_from < end).subquery()
    statement = (
        select(ranked, strategy.c.title.label("strategy_title"))
        .join(strategy, strategy.c.key == ranked.c.strategy_key)
        .where(ranked.c.effective_from >= start)
        .order_by(ranked.c.strategy_key, ranked.c.number)
    )
    return list((await session.execute(statement)).all())
