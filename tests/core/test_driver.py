"""The hot write path's driver (app.core.driver): the request's own connection and transaction."""

from __future__ import annotations

import pytest

from app.core.db import Database, transaction
from app.core.driver import driver

postgres_only = pytest.mark.postgres_only


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
