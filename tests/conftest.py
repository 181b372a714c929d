"""Test harness: a real database built by the Alembic migrations, the real app over HTTP.

``TEST_DATABASE_URL`` chooses the engine: unset means a fresh SQLite file; a
``postgresql://…`` URL names a server on which a fresh database is created for the run
(and dropped after it).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

_base_url = os.environ.get("TEST_DATABASE_URL", "")
_tmpdir = tempfile.mkdtemp(prefix="decision-log-tests-")
if _base_url.startswith("postgres"):
    _server = make_url(_base_url)
    _dbname = f"decision_log_test_{uuid.uuid4().hex[:10]}"
    DATABASE_URL = _server.set(database=_dbname).render_as_string(hide_password=False)
    DIALECT = "postgresql"
else:
    _server = None
    _dbname = None
    DATABASE_URL = f"sqlite:///{Path(_tmpdir) / 'test.db'}"
    DIALECT = "sqlite"
os.environ["DECISION_LOG_DATABASE_URL"] = DATABASE_URL
# The suite sends thousands of requests a minute with a handful of keys; the rate-limit tests
# build their own apps with small limits.
os.environ["DECISION_LOG_RATE_LIMIT"] = ""
# Checkpoints of the tamper-evident log are signed with this test key (never use it anywhere else).
TEST_SIGNING_KEY = "dGVzdC1zaWduaW5nLWtleS1ub3QtZm9yLXVzZS0wMDE="
os.environ["DECISION_LOG_SIGNING_KEY"] = TEST_SIGNING_KEY
# No background sealer in the shared app: tests that compare database states must not see the chain grow
# under them. Verification seals on demand; tests/integrity runs the background sealer in an app of its own.
os.environ["DECISION_LOG_INTEGRITY_SEAL_INTERVAL_SECONDS"] = "0"
# Nor background folding of the analytics rollup: tests fold when they mean to (app.analytics.rollup.fold).
os.environ["DECISION_LOG_ROLLUP_FOLD_INTERVAL_SECONDS"] = "0"
# Nor the background scan for due reviews: tests scan when they mean to (app.events.reviews.scan).
os.environ["DECISION_LOG_REVIEW_SCAN_INTERVAL_SECONDS"] = "0"
# Nor the weekly digest: tests/digest runs it when they mean to (app.digest.weekly.run_once).
os.environ["DECISION_LOG_DIGEST_CHECK_INTERVAL_SECONDS"] = "0"
# Nor the webhook dispatcher: tests/webhooks runs it in apps of their own, with a receiver on loopback.
os.environ["DECISION_LOG_WEBHOOK_POLL_INTERVAL_SECONDS"] = "0"
# Signing secrets are encrypted with this test key (never use it anywhere else).
os.environ["DECISION_LOG_WEBHOOK_SECRET_KEY"] = "dGVzdC13ZWJob29rLWtleS1ub3QtZm9yLXVzZS0wMDE="

import httpx  # noqa: E402
from asgi_lifespan import LifespanManager  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app.auth.scopes import Scope  # noqa: E402
from app.auth.service import create_key  # noqa: E402
from app.core.config import Settings, get_settings  # noqa: E402
from app.core.migrations import upgrade  # noqa: E402
from app.core.unit_of_work import Database  # noqa: E402
from app.integrity.repository import append_only_guard_lifted  # noqa: E402
from app.main import create_app  # noqa: E402
from app.models import metadata  # noqa: E402

# Tables emptied between tests, children first; API keys persist for the whole run, except those made for people.
TABLES = [
    "webhook_attempt",
    "webhook_message",
    "webhook",
    "digest_run",
    "event",
    "web_session",
    "sign_in_link",
    "integrity_checkpoint",
    "integrity_link",
    "integrity_entry",
    "idempotency_record",
    "review_due",
    "decision_revision",
    "decision",
    "kpi_revision",
    "kpi",
    "strategy_version",
    "strategy",
    "data_source",
    "contractor",
    "person",
    "basis_rollup_delta",  # after decision: deleting decisions on SQLite appends deltas
    "basis_rollup",
    "forecast_rollup_delta",
    "forecast_rollup",
    "summary_rollup_delta",
    "summary_rollup",
    "kpi_rollup_delta",
    "kpi_rollup",
]
# Every table but the keys is emptied: a table added without being listed here would carry rows from test to test.
assert set(TABLES) == set(metadata.tables) - {"api_key"}, (set(metadata.tables) - {"api_key"}) ^ set(TABLES)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``postgres_only`` tests (faults of a database server) are skipped on SQLite."""
    if DIALECT == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (TEST_DATABASE_URL=postgresql://…)")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


async def _admin(statement: str) -> None:
    import asyncpg

    assert _server is not None
    connection = await asyncpg.connect(
        host=_server.host,
        port=_server.port or 5432,
        user=_server.username,
        password=_server.password,
        database=_server.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    if _dbname is not None:
        asyncio.run(_admin(f'CREATE DATABASE "{_dbname}"'))
    upgrade(DATABASE_URL)
    yield DATABASE_URL
    if _dbname is not None:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{_dbname}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session")
async def app_instance(settings: Settings) -> AsyncIterator[object]:
    app = create_app(settings)
    async with LifespanManager(app):
        yield app


@pytest.fixture(scope="session")
def db(app_instance: object) -> Database:
    return app_instance.state.db  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="session")
async def keys(db: Database) -> dict[str, str]:
    """One API key per scope, created once for the run."""
    out: dict[str, str] = {}
    async with db.sessionmaker() as session, session.begin():
        for scope in Scope:
            _, out[scope.value] = await create_key(session, name=f"test-{scope.value}", scope=scope)
    return out


@pytest.fixture(autouse=True)
async def _clean(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "db" not in request.fixturenames:
        return
    database: Database = request.getfixturevalue("db")
    async with database.engine.begin() as connection:
        if DIALECT == "postgresql":
            await connection.execute(text(f"TRUNCATE {', '.join(TABLES)} CASCADE"))
        else:
            async with append_only_guard_lifted(connection):  # the log tables refuse DELETE otherwise
                for table in TABLES:
                    await connection.execute(text(f"DELETE FROM {table}"))
        # Keys a test made for its people go with them (a person made again by a later test starts without keys).
        await connection.execute(text("DELETE FROM api_key WHERE person_handle IS NOT NULL"))


def make_client(app: object, key: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",  # type: ignore[arg-type]
        headers=headers,
    )


@pytest.fixture
async def client(app_instance: object, keys: dict[str, str], db: Database) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a `write` key."""
    async with make_client(app_instance, keys["write"]) as c:
        yield c


@pytest.fixture
async def anon(app_instance: object, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    async with make_client(app_instance, None) as c:
        yield c


@pytest.fixture
def client_for(app_instance: object, keys: dict[str, str], db: Database):  # type: ignore[no-untyped-def]
    """``client_for("read")`` → a client holding a key of that scope."""
    opened: list[httpx.AsyncClient] = []

    def factory(scope: str) -> httpx.AsyncClient:
        c = make_client(app_instance, keys[scope])
        opened.append(c)
        return c

    return factory
