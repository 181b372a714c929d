"""Folds the rollup deltas the database appends on every decision write into the rollup cells.

Answers never depend on it (readers sum cells and pending deltas); folding only keeps the deltas few, so
answers stay fast. Every process runs it; on PostgreSQL an advisory lock lets one fold at a time, on SQLite
the folding transaction is the single writer.
"""

import asyncio
import logging

from app.analytics import queries
from app.core.dialect import try_advisory_lock
from app.core.unit_of_work import Database, transaction

logger = logging.getLogger("app.analytics")

FOLD_LOCK = 0x524F4C4C  # 'ROLL': the advisory lock key of the folding round


async def fold(database: Database) -> int | None:
    """One folding round: the number of rollup cells written, None when another process is folding."""
    limit = database.settings.statement_timeout_seconds + 1
    async with transaction(database, writes=True, wait_limit=limit) as session:
        if not await try_advisory_lock(session, FOLD_LOCK):
            return None
        return await queries.fold_rollup_deltas(session)


async def run(database: Database, interval: float) -> None:
    """Fold every ``interval`` seconds until cancelled; a failed round is logged and retried."""
    while True:
        await asyncio.sleep(interval)
        try:
            await fold(database)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # the database may be away: try again next round
            logger.warning("rollup folding round failed: %s", error)
