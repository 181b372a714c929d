"""A unit of work cancelled while it waits for SQLite's write lock (a background task stopped at shutdown, while
another process writes) leaves nothing behind: its connection is closed, not handed back to the pool, and the
lock its BEGIN IMMEDIATE would have taken is free for the next writer."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from app.core.config import Settings
from app.core.unit_of_work import Database, transaction
from tests.conftest import DIALECT

pytestmark = pytest.mark.skipif(DIALECT != "sqlite", reason="SQLite's write lock")


def _other_process_writer(path: Path) -> sqlite3.Connection:
    """Another writer of the same file, as another process would be: a plain sqlite3 connection in a write
    transaction."""
    connection = sqlite3.connect(path, isolation_level=None, timeout=5)
    connection.execute("BEGIN IMMEDIATE")
    return connection


def _lock_is_free(path: Path) -> bool:
    probe = sqlite3.connect(path, isolation_level=None, timeout=5)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


@pytest.fixture
async def database(tmp_path: Path):  # type: ignore[no-untyped-def]
    path = tmp_path / "cancelled.db"
    setup = sqlite3.connect(path, isolation_level=None)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute("CREATE TABLE note (body TEXT NOT NULL)")
    setup.close()
    database = Database(Settings(database_url=f"sqlite:///{path}", sqlite_busy_timeout_seconds=30))
    yield path, database
    await database.dispose()


async def _write(database: Database, body: str) -> None:
    async with transaction(database, writes=True) as session:
        await session.execute(text("INSERT INTO note (body) VALUES (:body)"), {"body": body})


@pytest.mark.parametrize("cancels", [1, 2], ids=["cancelled", "cancelled-again-while-cleaning-up"])
async def test_a_unit_cancelled_in_begin_behind_another_writer_leaves_the_lock_free(database, cancels) -> None:
    path, db = database
    other = _other_process_writer(path)
    waiting = asyncio.create_task(_write(db, "never"))
    await asyncio.sleep(0.3)  # the unit's BEGIN IMMEDIATE waits behind the other writer
    for _ in range(cancels):
        waiting.cancel()
        await asyncio.sleep(0.05)
    other.execute("INSERT INTO note (body) VALUES ('other')")
    other.execute("COMMIT")
    other.close()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(waiting, 10)  # ends, well within the 30 s busy timeout

    await asyncio.wait_for(_write(db, "next"), 10)  # the next writer of this process
    assert await asyncio.to_thread(_lock_is_free, path)  # and of another
    for _ in range(250):  # the cancelled unit's connection is closed once its BEGIN has ended
        if db.engine.pool.checkedout() == 0:
            break
        await asyncio.sleep(0.02)
    assert db.engine.pool.checkedout() == 0  # nothing left checked out
    pending = [task for task in asyncio.all_tasks() if "aiosqlite" in repr(task.get_coro())]
    assert pending == []  # and no close left waiting forever
    rows = sqlite3.connect(path).execute("SELECT body FROM note ORDER BY rowid").fetchall()
    assert rows == [("other",), ("next",)]
