"""The feed's order under concurrent commits: a poller that keeps its place never misses an event committed
after it looked, whatever order transactions began and committed in."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import httpx
import pytest

from app.core.unit_of_work import Database, transaction
from app.people import service as people_service
from app.people.schemas import PersonUpsert
from tests import conftest, factories
from tests.events.helpers import feed

postgres_only = pytest.mark.postgres_only


@postgres_only
async def test_an_event_committed_late_is_not_overtaken(client: httpx.AsyncClient, db: Database) -> None:
    """Transaction A writes its event first and commits last: until it ends, the events committed after it
    began are held back, and then both show, A's first. A feed ordered by insertion alone would have shown B,
    and a poller past B would never see A."""
    async with transaction(db, writes=True) as session:
        await people_service.upsert_person(session, "a.first", PersonUpsert(name="A", team="growth"))
        await factories.person(client, "b.second")  # its own transaction, committed now

        assert (await client.get("/v1/people/b.second")).status_code == 200
        assert await feed(client) == []  # B's event waits behind A, still in flight

    assert [e["subject"] for e in await feed(client)] == ["person/a.first", "person/b.second"]


@postgres_only
async def test_a_transaction_in_another_database_does_not_hold_the_feed(client: httpx.AsyncClient) -> None:
    server = conftest._server
    assert server is not None
    other = await asyncpg.connect(
        host=server.host, port=server.port or 5432, user=server.username, password=server.password, database="postgres"
    )
    try:
        transaction = other.transaction()
        await transaction.start()
        await other.fetchval("SELECT pg_current_xact_id()")  # holds a transaction id, cluster-wide
        await factories.person(client, "anna.petrova")

        assert [e["subject"] for e in await feed(client)] == ["person/anna.petrova"]
        await transaction.rollback()
    finally:
        await other.close()


async def test_a_poller_paging_during_concurrent_writes_sees_every_event_once(client: httpx.AsyncClient) -> None:
    writers, each = 8, 12
    done = asyncio.Event()

    async def write(n: int) -> None:
        for i in range(each):
            await factories.person(client, f"writer{n}.p{i}")

    async def poll() -> list[dict[str, Any]]:
        """Page through the feed, keeping its place as a poller does (the last event's id in `after`)."""
        seen: list[dict[str, Any]] = []
        while True:
            finished = done.is_set()
            while True:
                params: dict[str, Any] = {"limit": 7, **({"after": seen[-1]["id"]} if seen else {})}
                items = (await client.get("/v1/events", params=params)).json()["items"]
                seen += items
                if not items:
                    break
            if finished:
                return seen
            await asyncio.sleep(0.002)

    poller = asyncio.create_task(poll())
    await asyncio.gather(*(write(n) for n in range(writers)))
    done.set()
    seen = await poller

    everything = await feed(client)
    assert len(everything) == writers * each
    assert [e["id"] for e in seen] == [e["id"] for e in everything]
