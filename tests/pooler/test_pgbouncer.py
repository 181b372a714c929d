"""Behind PgBouncer in transaction pooling mode (Debian's package, 1.18: no prepared statements across transactions,
unknown startup parameters refused), started by the test in front of the suite's PostgreSQL server:

- with ``DECISION_LOG_DATABASE_POOLER=pgbouncer`` the service migrates and serves its main flows through it, each
  transaction free to land on another server connection;
- without it, the service refuses to start and names the setting, whether PgBouncer refuses the session settings
  sent when connecting or was told to ignore them;
- the session settings then hold in every transaction the service runs, and in none other.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.core.config import Settings
from app.core.driver import driver
from app.core.engine import PoolerMismatch
from app.core.unit_of_work import Database, transaction
from app.main import create_app
from tests import factories
from tests.conftest import DATABASE_URL
from tests.faults.service import Service
from tests.pooler.bouncer import PgBouncer

pytestmark = pytest.mark.postgres_only

CLI = str(Path(sys.executable).parent / "decision-log")
SERVER = make_url(DATABASE_URL).set(database="postgres").render_as_string(hide_password=False)
POOLED = {"DECISION_LOG_DATABASE_POOLER": "pgbouncer"}


def _bouncer(**settings: str) -> PgBouncer:
    try:
        return PgBouncer(SERVER, **settings)
    except FileNotFoundError as missing:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(missing))


@contextlib.contextmanager
def _running(**settings: str) -> Iterator[PgBouncer]:
    bouncer = _bouncer(**settings)
    try:
        bouncer.start()
        yield bouncer
    finally:
        bouncer.stop()


@pytest.fixture(scope="module")
def bouncer() -> Iterator[PgBouncer]:
    with _running() as running:
        yield running


async def _on_server(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(SERVER, timeout=10)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def database_name() -> AsyncIterator[str]:
    """A fresh, empty database on the server (made directly, not through the pooler), dropped at the end."""
    name = f"pgbouncer_{uuid.uuid4().hex[:10]}"
    await _on_server(f'CREATE DATABASE "{name}"')
    yield name
    await _on_server(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cli(database_url: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "DECISION_LOG_DATABASE_URL": database_url, **(env or {})}
    return subprocess.run([CLI, *args], env=environment, capture_output=True, text=True, timeout=120, check=False)


async def _status(response: httpx.Response, expected: int) -> dict[str, Any]:
    assert response.status_code == expected, response.text
    return response.json() if response.headers.get("content-type", "").endswith("json") else {}


async def _main_flows(client: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    """People, data sources, strategies, KPIs, decisions one by one, concurrently and in a batch, read, corrected,
    reviewed, reversed; analytics; the export; keys; verification."""
    await factories.basics(client)
    assert [p["handle"] for p in (await client.get("/v1/people")).json()["items"]] == ["anna.petrova", "boris.ivanov"]
    assert (await client.get("/v1/data-sources/crm")).json()["kind"] == "crm"
    await factories.strategy(client)
    await factories.version(client, effective_from="2026-01-01T00:00:00Z")
    await factories.version(client, effective_from="2026-02-01T00:00:00Z", change_reason="Search got cheaper.")
    await factories.kpi(client, "cpa", owner="anna.petrova", target=40, direction="decrease")
    revised = await factories.kpi(
        client, "cpa", owner="anna.petrova", target=35, direction="decrease", change_reason="Q2 plan."
    )
    assert revised["revision"] == 2

    # Many at once, each transaction free to land on any of the pooler's server connections: with and without an
    # Idempotency-Key (the session begins first, or the driver takes the connection), naming a strategy and KPIs.
    async def create(number: int) -> dict[str, Any]:
        body = factories.decision_body(
            title=f"Decision {number}",
            external_ref={"system": "pooler-test", "id": str(number)},
            **({"strategy": "growth-2026", "kpis": ["cpa"]} if number % 3 == 0 else {"team": "growth"}),
        )
        headers = {"Idempotency-Key": f"pooled-{number}"} if number % 2 else {}
        return await _status(await client.post("/v1/decisions", json=body, headers=headers), 201)

    created = await asyncio.gather(*(create(number) for number in range(24)))
    assert sorted(d["title"] for d in created) == sorted(f"Decision {n}" for n in range(24))
    assert {d["strategy_version"] for d in created if d["strategy"]} == {2}
    replayed = await client.post(
        "/v1/decisions",
        json=factories.decision_body(
            title="Decision 1", external_ref={"system": "pooler-test", "id": "1"}, team="growth"
        ),
        headers={"Idempotency-Key": "pooled-1"},
    )
    assert replayed.status_code == 201 and replayed.headers["Idempotent-Replayed"] == "true", replayed.text
    unknown = await client.post("/v1/decisions", json=factories.decision_body(owner="nobody", team="growth"))
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_reference", unknown.text

    batch = [factories.decision_body(title=f"Batch {n}", basis="intuition", evidence=[]) for n in range(30)]
    stored = (await _status(await client.post("/v1/decisions/batch", json={"items": batch}), 201))["items"]
    assert [d["title"] for d in stored] == [f"Batch {n}" for n in range(30)]

    first = created[0]
    read = await client.get(f"/v1/decisions/{first['id']}")
    assert await _status(read, 200) == first | {"contradicts": []}
    corrected = await client.patch(
        f"/v1/decisions/{first['id']}",
        json={"edit_reason": "Typo.", "title": "Decision 0, corrected"},
        headers={"If-Match": read.headers["ETag"]},
    )
    assert (await _status(corrected, 200))["revision"] == 2
    revisions = (await client.get(f"/v1/decisions/{first['id']}/revisions")).json()["items"]
    assert [r["kind"] for r in revisions] == ["created", "edited"]
    await factories.outcome(client, first["id"])
    await factories.reverse(client, created[1]["id"])
    listed = (await client.get("/v1/decisions", params={"limit": 20, "basis_class": "data"})).json()
    assert len(listed["items"]) == 20 and listed["next_cursor"]
    following = (await client.get("/v1/decisions", params={"limit": 20, "cursor": listed["next_cursor"]})).json()
    assert {d["id"] for d in following["items"]}.isdisjoint({d["id"] for d in listed["items"]})

    basis = (await client.get("/v1/analytics/basis", params={"bucket": "none"})).json()
    assert basis["rows"][0] | {"data_share": None, "emotion_share": None} == {
        "period_start": None,
        "group": None,
        "total": 54,
        "data": 24,
        "emotion": 30,
        "emotion_unsupported": 0,
        "data_share": None,
        "emotion_share": None,
    }
    for report in ("summary", "strategy-changes", "kpis", "accountability", "outcomes"):
        await _status(await client.get(f"/v1/analytics/{report}"), 200)
    csv = await client.get("/v1/analytics/basis", params={"bucket": "month", "format": "csv"})
    assert csv.status_code == 200 and csv.text.startswith("period_start,"), csv.text

    export = await client.get("/v1/exports/decisions")
    assert export.status_code == 200, export.text
    assert len([line for line in export.text.splitlines() if line]) == 54

    key = await _status(await admin.post("/v1/keys", json={"name": "through-the-pooler", "scope": "read"}), 201)
    assert any(k["id"] == key["id"] for k in (await admin.get("/v1/keys")).json())
    await _status(await admin.post(f"/v1/keys/{key['id']}/revoke"), 200)

    verified = await _status(await admin.get("/v1/integrity/verify"), 200)
    assert (verified["ok"], verified["problems"], verified["records"]) == (True, [], 57), verified


def _log_lines(service: Service) -> list[dict[str, Any]]:
    return [json.loads(line) for line in service.log_path.read_text().splitlines() if line.startswith("{")]


async def test_the_main_flows_work_through_pgbouncer_in_transaction_mode(bouncer, database_name, tmp_path):
    url = bouncer.url(database_name)
    # The sealer and the rollup folding (advisory locks of their transactions) run often beside the requests.
    service = Service(
        url,
        env={
            **POOLED,
            "DECISION_LOG_INTEGRITY_SEAL_INTERVAL_SECONDS": "0.2",
            "DECISION_LOG_ROLLUP_FOLD_INTERVAL_SECONDS": "0.2",
        },
    )
    try:
        await service.start()  # migrates through the pooler first
        made = await asyncio.to_thread(_cli, url, "keys", "create", "--name", "pooler", "--scope", "admin", env=POOLED)
        assert made.returncode == 0, made.stderr
        async with service.client(made.stdout.splitlines()[-1]) as admin:
            assert (await admin.get("/readyz")).json()["status"] == "ready"
            await _main_flows(admin, admin)
        lines = _log_lines(service)
        # The maintenance commands too: a backup (one REPEATABLE READ snapshot) and a verification of the log.
        backup = await asyncio.to_thread(_cli, url, "export", str(tmp_path / "backup.ndjson"), env=POOLED)
        assert backup.returncode == 0, backup.stderr
        assert "exported" in backup.stdout and (tmp_path / "backup.ndjson").stat().st_size > 0
        verified = await asyncio.to_thread(_cli, url, "verify", env=POOLED)
        assert verified.returncode == 0, verified.stdout + verified.stderr
    finally:
        service.stop()
        log = service.log_tail()
        service.remove_log()
    assert "Traceback" not in log, log
    assert [line for line in lines if line["level"] not in {"info", "debug"}] == [], log
    assert [line for line in lines if line.get("event") == "request" and line["status"] >= 500] == [], log


async def test_without_the_setting_the_service_refuses_to_start_behind_pgbouncer(bouncer, database_name):
    refused = await asyncio.to_thread(
        _cli, bouncer.url(database_name), "serve", "--port", "1", env={"DECISION_LOG_DATABASE_POOLER": "none"}
    )
    assert refused.returncode == 1, refused.stdout + refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "decision-log: The session setting statement_timeout was refused when connecting "
        f"(at 127.0.0.1:{bouncer.port}): "
        "a connection pooler in transaction mode (PgBouncer) stands in front of PostgreSQL. Set "
        "DECISION_LOG_DATABASE_POOLER=pgbouncer (session settings are then set in each transaction, and no statement "
        "is prepared by name), or connect to PostgreSQL directly."
    ]


async def test_without_the_setting_the_service_refuses_a_pgbouncer_that_ignores_the_session_settings(database_name):
    with _running(ignore_startup_parameters="statement_timeout,idle_in_transaction_session_timeout") as lenient:
        url = lenient.url(database_name)
        refused = await asyncio.to_thread(_cli, url, "migrate", env={"DECISION_LOG_DATABASE_POOLER": "none"})
        assert refused.returncode == 1, refused.stdout + refused.stderr
        # Migrations send their own statement timeout (24 h: alembic/env.py), not the requests' 10 s.
        assert "The session setting statement_timeout sent when connecting (86400000 ms) was not applied (0 ms)" in (
            refused.stderr
        )
        assert "Set DECISION_LOG_DATABASE_POOLER=pgbouncer" in refused.stderr
        # An app served by other means refuses at start-up too, with the same words.
        app = create_app(Settings(database_url=url, database_pooler="none"))
        with pytest.raises(PoolerMismatch, match="DECISION_LOG_DATABASE_POOLER=pgbouncer"):
            async with LifespanManager(app):
                pass
        # With the setting, the same pooler is fine: the settings are set in each transaction instead.
        migrated = await asyncio.to_thread(_cli, url, "migrate", env=POOLED)
        assert migrated.returncode == 0, migrated.stderr


async def test_behind_pgbouncer_the_session_settings_hold_in_each_transaction_and_no_other(database_name):
    # One server connection: what a transaction leaves behind, the next client would find.
    with _running(default_pool_size="1") as single:
        url = single.url(database_name)
        settings = Settings(database_url=url, database_pooler="pgbouncer", statement_timeout_seconds=1.5)
        database = Database(settings)
        query = (
            "SELECT current_setting('statement_timeout') AS statement, "
            "current_setting('idle_in_transaction_session_timeout') AS idle, current_setting('TimeZone') AS zone"
        )
        expected = {"statement": "1500ms", "idle": "1min", "zone": "UTC"}
        try:
            async with transaction(database, writes=False) as session:  # SQLAlchemy's transaction
                assert dict((await session.execute(text(query))).mappings().one()) == expected
            async with transaction(database, writes=True) as session:  # the driver's own (the write path's)
                pooled = await driver(session)
                assert pooled is not None
                assert dict((await pooled.fetch(query))[0]) == expected
        finally:
            await database.dispose()
        import asyncpg

        other = await asyncpg.connect(url, statement_cache_size=0, timeout=10)
        try:
            assert await other.fetchval("SELECT current_setting('statement_timeout')") == "0"
            assert await other.fetchval("SELECT count(*) FROM pg_prepared_statements") == 0
        finally:
            await other.close()
