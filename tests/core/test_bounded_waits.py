"""No request waits without bound: on the database's answer (PostgreSQL), on SQLite's write lock,
on the readiness check, or in a queue of requests (the concurrency limit)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text

from app import health
from app.core.config import Settings
from app.core.driver import driver
from app.core.errors import ServiceUnavailable
from app.core.middleware import ConcurrencyLimit
from app.core.unit_of_work import Database, transaction
from app.main import create_app
from tests import factories
from tests.conftest import DATABASE_URL, DIALECT, make_client


@pytest.fixture
async def app_with(db: Database) -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """``await app_with(setting=value, …)``: the app with some settings changed, started (and
    stopped after the test)."""
    async with contextlib.AsyncExitStack() as stack:

        async def make(**changes: Any) -> Any:
            app = create_app(Settings(database_url=DATABASE_URL, **changes))
            await stack.enter_async_context(LifespanManager(app))
            return app

        yield make


def middleware(app: Any, kind: type) -> Any:
    """The instance of ``kind`` in the app's built middleware stack."""
    layer = app.middleware_stack
    while layer is not None and not isinstance(layer, kind):
        layer = getattr(layer, "app", None)
    assert layer is not None, f"no {kind.__name__} in the stack"
    return layer


async def held_body(release: asyncio.Event) -> AsyncIterator[bytes]:
    """A request body that arrives only when ``release`` is set: its request stays in progress."""
    yield b'{"name": "Held Person", '
    await release.wait()
    yield b'"team": "growth"}'


# --- the concurrency limit ------------------------------------------------------------------------


async def test_a_request_over_the_concurrency_limit_gets_503_overloaded_at_once(app_with, keys):
    app = await app_with(max_concurrent_requests=2)
    release = asyncio.Event()
    async with make_client(app, keys["write"]) as client:
        assert (await client.get("/healthz")).status_code == 200  # builds the middleware stack
        limiter = middleware(app, ConcurrencyLimit)
        held = [
            asyncio.create_task(
                client.put(
                    f"/v1/people/held.{n}", content=held_body(release), headers={"Content-Type": "application/json"}
                )
            )
            for n in range(2)
        ]
        async with asyncio.timeout(5):
            while limiter.in_progress < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)

        started = time.monotonic()
        refused = await client.get("/v1/people")
        refused_in = time.monotonic() - started
        live, ready = await client.get("/healthz"), await client.get("/readyz")

        release.set()
        done = await asyncio.wait_for(asyncio.gather(*held), timeout=10)
        after = await client.get("/v1/people")

    assert refused.status_code == 503, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["Retry-After"].isdigit()
    assert refused.json()["code"] == "overloaded"
    assert refused.json()["request_id"] == refused.headers["X-Request-ID"]
    assert refused_in < 1.0  # answered at once, not queued
    assert (live.status_code, ready.status_code) == (200, 200)  # probes are exempt
    assert [r.status_code for r in done] == [201, 201]
    assert after.status_code == 200
    assert limiter.in_progress == 0


async def test_failed_and_refused_requests_give_their_place_back(app_with, keys):
    app = await app_with(max_concurrent_requests=1)
    async with make_client(app, keys["write"]) as client:
        answers = [
            await client.get("/v1/people/nobody"),  # 404
            await client.post("/v1/decisions", json={}),  # 422
            await client.put("/v1/people/x", content=b"{" * 40, headers={"Content-Type": "application/json"}),
            await client.get("/v1/people"),
        ]
        limiter = middleware(app, ConcurrencyLimit)
    assert [a.status_code for a in answers] == [404, 422, 422, 200]
    assert limiter.in_progress == 0


# --- SQLite's write lock ----------------------------------------------------------------------------


async def put_while_held(
    app: Any, key: str, held: contextlib.AbstractAsyncContextManager[Any]
) -> tuple[Any, float, Any]:
    """A write sent while ``held`` is held (its answer and how long it took), then one sent after."""
    async with make_client(app, key) as limited:
        async with held:
            started = time.monotonic()
            refused = await limited.put("/v1/people/anna.petrova", json={"name": "Anna", "team": "growth"})
            refused_in = time.monotonic() - started
        accepted = await limited.put("/v1/people/boris.ivanov", json={"name": "Boris", "team": "brand"})
    return refused, refused_in, accepted


@pytest.mark.skipif(DIALECT != "sqlite", reason="SQLite's in-process write lock")
async def test_a_write_waits_for_sqlites_write_lock_no_longer_than_the_busy_timeout(app_with, keys, client):
    app = await app_with(sqlite_busy_timeout_seconds=0.3)
    database: Database = app.state.db
    assert database.write_lock is not None
    # another write holds the database
    refused, refused_in, accepted = await put_while_held(app, keys["write"], database.write_lock)

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"].isdigit()
    assert refused.json()["code"] == "service_unavailable"
    assert 0.3 <= refused_in < 2.0
    assert accepted.status_code == 201
    assert (await client.get("/v1/people/anna.petrova")).status_code == 404  # nothing written


# --- the pool's connections --------------------------------------------------------------------------


async def test_a_request_waits_for_a_connection_no_longer_than_the_pool_timeout(app_with, keys, client):
    app = await app_with(pool_size=1, pool_timeout_seconds=0.3)
    database: Database = app.state.db

    @contextlib.asynccontextmanager
    async def only_connection_held() -> AsyncIterator[None]:
        async with transaction(database, writes=False) as session:  # another unit of work holds it
            await session.execute(text("SELECT 1"))
            yield

    refused, refused_in, accepted = await put_while_held(app, keys["write"], only_connection_held())

    assert refused.status_code == 503, refused.text
    assert refused.headers["Retry-After"].isdigit()
    assert "All 1 database connections are in use" in refused.json()["detail"]
    assert 0.3 <= refused_in < 2.0
    assert accepted.status_code == 201
    assert (await client.get("/v1/people/anna.petrova")).status_code == 404  # nothing written


async def test_units_of_work_get_a_connection_in_the_order_they_asked(db: Database):
    database = Database(Settings(database_url=DATABASE_URL, pool_size=1))
    served: list[str] = []
    holding, release = asyncio.Event(), asyncio.Event()

    async def unit(name: str, *, hold: bool = False) -> None:
        async with transaction(database, writes=False) as session:
            served.append(name)
            await session.execute(text("SELECT 1"))
            if hold:
                holding.set()
                await release.wait()
        if hold:
            # Arrives the moment the connection is handed back, before the first in line has run: it must not go
            # ahead of those waiting.
            await unit("late")

    try:
        first = asyncio.create_task(unit("first", hold=True))
        await holding.wait()
        waiting = [asyncio.create_task(unit(f"waiting-{i}")) for i in range(3)]
        await asyncio.sleep(0.05)  # all three queue behind the first
        release.set()
        await asyncio.gather(first, *waiting)
    finally:
        await database.dispose()
    assert served == ["first", "waiting-0", "waiting-1", "waiting-2", "late"]


# --- the readiness check ----------------------------------------------------------------------------


async def test_readyz_answers_503_within_the_query_timeout_when_the_database_does_not(app_with, monkeypatch):
    async def never_answers(_engine: Any) -> str:
        await asyncio.sleep(3)
        return "never"

    app = await app_with(query_timeout_seconds=0.3)
    monkeypatch.setattr(health, "current_revision", never_answers)
    async with make_client(app, None) as client:
        started = time.monotonic()
        response = await client.get("/readyz")
        answered_in = time.monotonic() - started

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    assert "did not answer within 0.3 s" in response.json()["detail"]
    assert answered_in < 1.5


# --- the database's answer (PostgreSQL) -----------------------------------------------------------

postgres_only = pytest.mark.postgres_only


@postgres_only
async def test_a_statement_unanswered_past_the_limit_fails_with_503_and_its_connection_is_dropped(db: Database):
    started = time.monotonic()
    with pytest.raises(ServiceUnavailable, match=r"did not answer within 0\.3 s"):
        async with transaction(db, writes=False, wait_limit=0.3) as session:
            await session.execute(text("SELECT pg_sleep(3)"))
    failed_in = time.monotonic() - started

    assert failed_in < 1.5
    # The dropped connection was not handed back: every pooled connection still works.
    for _ in range(db.settings.pool_size + 2):
        async with transaction(db, writes=False, wait_limit=0.3) as session:
            assert (await session.execute(text("SELECT 1"))).scalar() == 1


@pytest.fixture
async def commit_probe(db: Database) -> AsyncIterator[None]:
    """A table whose deferred unique check makes COMMIT itself wait for another transaction's uncommitted row."""
    async with db.engine.begin() as setup:
        await setup.execute(text("CREATE TABLE commit_probe (k int UNIQUE DEFERRABLE INITIALLY DEFERRED)"))
    try:
        yield
    finally:
        async with db.engine.begin() as teardown:
            await teardown.execute(text("DROP TABLE commit_probe"))


async def probe_count(db: Database) -> int | None:
    async with db.engine.connect() as reader:
        return (await reader.execute(text("SELECT count(*) FROM commit_probe"))).scalar()


@postgres_only
async def test_a_commit_unanswered_past_the_limit_fails_with_503_never_2xx(db: Database, commit_probe):
    """A deferred unique check makes COMMIT itself wait (for another transaction's uncommitted
    row): the commit's wait is bounded like a statement's, and its failure is the request's."""
    async with db.engine.connect() as blocker:
        await blocker.execute(text("INSERT INTO commit_probe VALUES (1)"))  # not committed yet
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match=r"did not answer within 0\.3 s"):
            async with transaction(db, writes=True, wait_limit=0.3) as session:
                await session.execute(text("INSERT INTO commit_probe VALUES (1)"))  # waits only at COMMIT
        failed_in = time.monotonic() - started
        await blocker.commit()
    stored = await probe_count(db)
    assert failed_in < 1.5
    assert stored == 1  # the blocker's row only: the abandoned commit then failed its unique check


@postgres_only
async def test_the_drivers_own_commit_unanswered_past_the_limit_fails_with_503_and_its_connection_is_dropped(
    db: Database, commit_probe
):
    """The same for a unit of work whose connection the driver took (app.core.driver): its COMMIT's wait is
    bounded, the request fails, and the connection is not handed back to the pool."""
    async with db.engine.connect() as blocker:
        await blocker.execute(text("INSERT INTO commit_probe VALUES (1)"))  # not committed yet
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable, match=r"did not answer within 0\.3 s"):
            async with transaction(db, writes=True, wait_limit=0.3) as session:
                own = await driver(session)
                assert own is not None and not session.in_transaction()  # the driver's own connection
                await own.fetch("INSERT INTO commit_probe VALUES (1)")  # waits only at COMMIT
        failed_in = time.monotonic() - started
        await blocker.commit()
    stored = await probe_count(db)
    for _ in range(db.settings.pool_size + 2):  # every pooled connection still works
        async with transaction(db, writes=False, wait_limit=0.3) as session:
            own = await driver(session)
            assert own is not None
            assert (await own.fetch("SELECT 1 AS one"))[0]["one"] == 1
    assert failed_in < 1.5
    assert stored == 1
    assert db.engine.sync_engine.pool.checkedout() == 0


@postgres_only
async def test_a_loop_stalled_by_cpu_work_is_not_taken_for_database_silence(db: Database):
    """The answer comes in while this process is busy elsewhere (a big batch being validated):
    the wait is not held against the database."""
    async with transaction(db, writes=False, wait_limit=0.3) as session:
        asyncio.get_running_loop().call_later(0.05, time.sleep, 1.0)  # the loop blocks for 1 s
        value = (await session.execute(text("SELECT 1 FROM pg_sleep(0.1)"))).scalar()
    assert value == 1


@postgres_only
async def test_the_limit_bounds_each_wait_not_the_whole_unit_of_work(db: Database):
    """Each statement answers well within the limit, the unit of work as a whole takes several times it, beside
    other units waiting at the same time: nothing is cut off (the watch counts each wait from its own start)."""

    async def unit() -> int:
        async with transaction(db, writes=False, wait_limit=0.3) as session:
            answered = 0
            for _ in range(8):
                answered += (await session.execute(text("SELECT 1 FROM pg_sleep(0.12)"))).scalar() or 0
            return answered

    started = time.monotonic()
    assert await asyncio.gather(unit(), unit(), unit()) == [8, 8, 8]
    assert time.monotonic() - started > 0.9  # about 1 s: three times the limit


@postgres_only
async def test_requests_wait_on_the_database_no_longer_than_the_query_timeout(client, db: Database, monkeypatch):
    """Through the API: a request whose statement gets no answer within the query timeout fails
    with 503, and writes nothing."""
    await factories.basics(client)
    monkeypatch.setattr(db.settings, "query_timeout_seconds", 0.3)
    async with db.engine.connect() as blocker, blocker.begin():
        # Another transaction holds the person row the decision must reference.
        await blocker.execute(text("SELECT * FROM person FOR UPDATE"))
        started = time.monotonic()
        response = await client.post("/v1/decisions", json=factories.decision_body())
        answered_in = time.monotonic() - started

    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert answered_in < 2.0
    listed = await client.get("/v1/decisions")
    assert listed.json()["items"] == []


@postgres_only
async def test_analytics_may_wait_on_the_database_up_to_the_statement_timeout(client, db: Database, monkeypatch):
    """A report may rightly take longer than a record read: only the record read gives up."""
    await factories.basics(client)
    await factories.decision(client)
    monkeypatch.setattr(db.settings, "query_timeout_seconds", 0.3)
    async with db.engine.connect() as blocker, blocker.begin():
        await blocker.execute(text("LOCK TABLE decision IN ACCESS EXCLUSIVE MODE"))  # even reads wait
        report = asyncio.create_task(client.get("/v1/analytics/basis", params={"bucket": "none"}))
        records = asyncio.create_task(client.get("/v1/decisions"))
        await asyncio.sleep(0.8)
    assert (await records).status_code == 503
    answered = await report
    assert answered.status_code == 200, answered.text
    assert answered.json()["rows"][0]["total"] == 1
