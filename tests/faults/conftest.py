"""Fault tests: the real service as a process, and (on PostgreSQL) a cluster of the tests' own.

Faults that need a database server (stopping or freezing it) run only when the suite runs on
PostgreSQL (``postgres_only``), and then always on a private cluster made for the run, never on
the server ``TEST_DATABASE_URL`` names. Process faults (SIGTERM, kill -9 of the service) run on
both engines.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import DIALECT
from tests.faults.cluster import PrivateCluster
from tests.faults.service import Service


@pytest.fixture(scope="session")
def cluster() -> Iterator[PrivateCluster]:
    if DIALECT != "postgresql":
        pytest.skip("needs PostgreSQL")
    try:
        made = PrivateCluster()
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(missing))
    try:
        made.init()
        made.start()
        yield made
    finally:
        made.destroy()


async def _create_database(cluster: PrivateCluster, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(cluster.url(), timeout=10)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


@pytest.fixture
async def database_url_for_service(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh, empty database for the service under test: in the private cluster on PostgreSQL,
    a new file on SQLite."""
    if DIALECT != "postgresql":
        return f"sqlite:///{tmp_path / 'service.db'}"
    cluster: PrivateCluster = request.getfixturevalue("cluster")
    name = f"faults_{uuid.uuid4().hex[:10]}"
    await asyncio.wait_for(_create_database(cluster, name), timeout=30)
    return cluster.url(name)


@pytest.fixture
async def services() -> AsyncIterator[list[Service]]:
    """Services a test starts; each is killed at the end, whatever happened, and its log shown
    when the test failed (pytest prints captured output of failures)."""
    started: list[Service] = []
    yield started
    for service in started:
        service.stop()
        print(f"--- service log ({service.base_url}) ---\n{service.log_tail()}")
        service.remove_log()
