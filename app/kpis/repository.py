from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, insert_or_nothing
from app.core.pagination import keyset_page
from app.core.types import AnyRow, table_of
from app.kpis.models import Kpi, KpiRevision

kpi = table_of(Kpi)
revision = table_of(KpiRevision)


async def get(session: AsyncSession, key: str, *, for_update: bool = False) -> AnyRow | None:
    statement = select(kpi).where(kpi.c.key == key)
    if for_update:
        statement = statement.with_for_update()
    return (await session.execute(statement)).first()


async def insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Insert; False when another request created the key first."""
    statement = insert_or_nothing(dialect_of(session), kpi, kpi.c.key)
    return (await session.execute(statement, values)).first() is not None


async def update_kpi(session: AsyncSession, key: str, values: dict[str, Any]) -> None:
    await session.execute(update(kpi).where(kpi.c.key == key).values(**values))


async def insert_revision(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(revision.insert().values(**values))


async def snapshot_at(session: AsyncSession, key: str, at: datetime) -> dict[str, Any] | None:
    """The KPI as it stood at ``at``: the snapshot of the latest revision made by then."""
    statement = (
        select(revision.c.snapshot)
        .where(revision.c.kpi_key == key, revision.c.changed_at <= at)
        .order_by(revision.c.revision.desc())
        .limit(1)
    )
    return (await session.execute(statement)).scalar()


async def list_page(
    session: AsyncSession, *, kind: str | None, owner: str | None, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = select(kpi)
    if kind is not None:
        statement = statement.where(kpi.c.kind == kind)
    if owner is not None:
        statement = statement.where(kpi.c.owner_handle == owner)
    return await keyset_page(
        session, statement, [(kpi.c.key, False)], limit=limit, cursor=cursor, key=lambda row: [row.key]
    )


async def revisions_page(
    session: AsyncSession, key: str, *, limit: int, cursor: str | None
) -> tuple[list[AnyRow], str | None]:
    statement = select(revision).where(revision.c.kpi_key == key)
    return await keyset_page(
        session, statement, [(revision.c.revision, False)], limit=limit, cursor=cursor, key=lambda row: [row.revision]
    )
