"""The SQL of a keyed registry (people, data sources, contractors): a table whose rows are named by a slug
key, written by ``PUT`` (insert or replace), read one by key and listed in key order with a cursor.

The service side (the answer's schema, the tamper-evident log and the events of each write) is
:class:`app.registry.KeyedRegistry`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.dialect import dialect_of, upsert
from app.core.pagination import keyset_page
from app.core.types import AnyRow


@dataclass(frozen=True, slots=True)
class KeyedTable:
    table: Table
    key: str  # the key column: "handle", "key"
    update: tuple[str, ...]  # the columns a PUT replaces (the key and created_at stay)

    async def upsert(self, session: AsyncSession, values: dict[str, Any]) -> AnyRow:
        """Insert ``values``, or replace the ``update`` columns of the row with their key; the row as stored."""
        statement = upsert(dialect_of(session), self.table, values, key=[self.key], update=list(self.update))
        return (await session.execute(statement)).one()

    async def get(self, session: AsyncSession, key: str) -> AnyRow | None:
        return (await session.execute(select(self.table).where(self.table.c[self.key] == key))).first()

    async def page(
        self, session: AsyncSession, filters: Mapping[str, Any], *, limit: int, cursor: str | None
    ) -> tuple[list[AnyRow], str | None]:
        """One page in key order of the rows equal to every filter given (a ``None`` filter is left out)."""
        statement = select(self.table)
        for column, value in filters.items():
            if value is not None:
                statement = statement.where(self.table.c[column] == value)
        key = self.key
        return await keyset_page(
            session,
            statement,
            [(self.table.c[key], False)],
            limit=limit,
            cursor=cursor,
            key=lambda row: [getattr(row, key)],
        )
