"""The hot write path's driver (app.core.driver): the request's own connection and transaction."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import pytest
from sqlalchemy import text

from app.core.driver import driver
from app.core.unit_of_work import Database, transaction

postgres_only = pytest.mark.postgres_only


def add_person(handle: str) -> str:
    columns = "handle, name, team, active, created_at, updated_at"
    return f"INSERT INTO person ({columns}) VALUES ('{handle}', 'N', 'g', true, now(), now())"


@postgres_only
async def test_driver_statements_run_in_the_sessions_transaction_one_lookup_per_transaction(db: Database):
    async with db.sessionmaker() as session:
        async with session.begin():
            first = await driver(session)
            assert first is not None
            assert await driver(session) is first  # looked up once per transaction
            (row,) = await first.fetch("SELECT txid_current() AS txid, pg_backend_pid() AS pid")
            (again,) = await first.fetch("SELECT txid_current() AS txid")
            assert again["txid"] == row["txid"]  # one transaction, not autocommit
        async with session.begin():
            second = await driver(session)
            assert second is not None and second is not first  # a new transaction: looked up again
            (later,) = await second.fetch("SELECT txid_current() AS txid")
            assert later["txid"] != row["txid"]


async def test_no_driver_on_other_engines(db: Database):
    if db.dialect == "postgresql":
        pytest.skip("the driver path is PostgreSQL's")
    async with transaction(db, writes=False) as session:
        assert await driver(session) is None


@postgres_only
async def test_driver_first_in_a_unit_of_work_takes_the_units_connection_and_the_unit_commits_it(db: Database):
    pool = db.engine.sync_engine.pool
    async with transaction(db, writes=True) as session:
        own = await driver(session)
        assert own is not None and await driver(session) is own
        (row,) = await own.fetch("SELECT txid_current() AS txid")
        await own.fetch(add_person("driver.first"))
        (again,) = await own.fetch("SELECT txid_current() AS txid")
        assert again["txid"] == row["txid"]  # one transaction, not autocommit
        assert not session.in_transaction()  # the session was never begun
    assert pool.checkedout() == 0  # the connection went back to the pool
    async with transaction(db, writes=False) as session:
        assert await session.scalar(text("SELECT count(*) FROM person WHERE handle = 'driver.first'")) == 1


@postgres_only
async def test_a_unit_of_work_that_fails_rolls_back_the_drivers_connection(db: Database):
    with pytest.raises(ZeroDivisionError):
        async with transaction(db, writes=True) as session:
            own = await driver(session)
            assert own is not None
            await own.fetch(add_person("driver.undone"))
            1 / 0  # noqa: B018
    assert db.engine.sync_engine.pool.checkedout() == 0
    async with transaction(db, writes=False) as session:
        assert await session.scalar(text("SELECT count(*) FROM person WHERE handle = 'driver.undone'")) == 0


@postgres_only
async def test_the_session_after_the_driver_is_refused_and_nothing_is_committed(db: Database):
    with pytest.raises(RuntimeError, match="two transactions"):
        async with transaction(db, writes=True) as session:
            own = await driver(session)
            assert own is not None
            await own.fetch(add_person("driver.mixed"))
            await session.execute(text(add_person("session.mixed")))
    assert db.engine.sync_engine.pool.checkedout() == 0
    async with transaction(db, writes=False) as session:
        count = "SELECT count(*) FROM person WHERE handle IN ('driver.mixed', 'session.mixed')"
        assert await session.scalar(text(count)) == 0


@postgres_only
async def test_the_driver_after_the_session_runs_on_the_sessions_connection(db: Database):
    async with transaction(db, writes=True) as session:
        pid = await session.scalar(text("SELECT pg_backend_pid()"))
        txid = await session.scalar(text("SELECT txid_current()"))
        on_session = await driver(session)
        assert on_session is not None
        (row,) = await on_session.fetch("SELECT pg_backend_pid() AS pid, txid_current() AS txid")
        assert (row["pid"], row["txid"]) == (pid, txid)


@postgres_only
async def test_a_commit_refused_on_the_drivers_connection_fails_and_keeps_the_connection(db: Database):
    """A deferred constraint refuses the COMMIT: the error is the request's, and the connection, which PostgreSQL
    has rolled back, goes back to the pool rather than being closed."""
    async with db.engine.begin() as setup:
        await setup.execute(text("CREATE TABLE commit_refusal (k int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
    try:
        with pytest.raises(asyncpg.UniqueViolationError):
            async with transaction(db, writes=True) as session:
                own = await driver(session)
                assert own is not None
                (backend,) = await own.fetch("SELECT pg_backend_pid() AS pid")
                await own.fetch("INSERT INTO commit_refusal VALUES (1), (1)")  # refused only at COMMIT
        assert db.engine.sync_engine.pool.checkedout() == 0
        async with transaction(db, writes=False) as session:
            alive = "SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"
            assert await session.scalar(text(alive), {"pid": backend["pid"]}) == 1  # its backend still serves
    finally:
        async with db.engine.begin() as teardown:
            await teardown.execute(text("DROP TABLE commit_refusal"))
