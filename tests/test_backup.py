# Russian text: Cyrillic letters that look like Latin ones are meant.
# ruff: noqa: RUF001
"""`decision-log export` and `decision-log import`: the command's entry (``app.cli.main``, what the installed console
script runs) called in this process, in a thread of its own with its own event loop and its own connections, as
another process would have; one round trip runs the installed console script itself.

The round trip crosses engines: the test database's engine (``TEST_DATABASE_URL``) and the other one, a
temporary SQLite file when the tests run on PostgreSQL, a fresh database on the local PostgreSQL server when
they run on SQLite (skipped, saying so, when no server answers there).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import io
import json
import os
import socket
import sys
import threading
import traceback
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app import cli
from app.backup.service import DOMAIN_TABLES, unknown_tables
from app.core.config import get_settings
from app.core.engine import async_url
from app.core.types import format_utc, utcnow
from app.demo import run_demo
from app.main import create_app
from tests import factories
from tests.conftest import DATABASE_URL, DIALECT, make_client
from tests.conftest import _server as TEST_SERVER

COMMAND = Path(sys.executable).parent / "decision-log"
LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
OTHER = "sqlite" if DIALECT == "postgresql" else "postgresql"

NewDatabase = Callable[..., Awaitable[str]]


async def run_cli(url: str, *args: str, process: bool = False) -> tuple[int, str, str]:
    """``decision-log ARGS`` on the database at ``url``: its exit status, standard output and standard error. In
    this process (see the module's docstring) unless ``process``: then the installed console script."""
    if not process:
        return await asyncio.wait_for(asyncio.to_thread(_run_cli_here, url, args), timeout=180)
    running = await asyncio.create_subprocess_exec(
        str(COMMAND),
        *args,
        env={**os.environ, "DECISION_LOG_DATABASE_URL": url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(running.communicate(), timeout=180)
    assert running.returncode is not None
    return running.returncode, stdout.decode(), stderr.decode()


_cli_here = threading.Lock()


def _run_cli_here(url: str, args: tuple[str, ...]) -> tuple[int, str, str]:
    """``app.cli.main`` as the console script calls it, with ``DECISION_LOG_DATABASE_URL=url`` (the settings read
    afresh, then restored) and the output captured. An exception it lets out is exit status 1 with its traceback
    on standard error, as Python reports it."""
    out, err = io.StringIO(), io.StringIO()
    with _cli_here, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        saved_argv, saved_url = sys.argv, os.environ.get("DECISION_LOG_DATABASE_URL")
        sys.argv = [str(COMMAND), *args]
        os.environ["DECISION_LOG_DATABASE_URL"] = url
        get_settings.cache_clear()
        try:
            cli.main()
            code = 0
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
        except Exception:
            traceback.print_exc()
            code = 1
        finally:
            sys.argv = saved_argv
            if saved_url is None:
                os.environ.pop("DECISION_LOG_DATABASE_URL", None)
            else:
                os.environ["DECISION_LOG_DATABASE_URL"] = saved_url
            get_settings.cache_clear()
    return code, out.getvalue(), err.getvalue()


async def export(url: str, path: Path, *options: str, process: bool = False) -> None:
    code, out, err = await run_cli(url, "export", str(path), *options, process=process)
    assert code == 0, err
    assert out.startswith("exported ")


async def import_(url: str, path: Path, *options: str, process: bool = False) -> None:
    code, out, err = await run_cli(url, "import", str(path), *options, process=process)
    assert code == 0, err
    assert out.startswith("imported ")


# ---------------------------------------------------------------------------------------------
# Databases
# ---------------------------------------------------------------------------------------------


async def _postgres_server() -> URL | None:
    """The PostgreSQL server the tests may create databases on, None when none answers."""
    if TEST_SERVER is not None:
        return TEST_SERVER
    server = make_url(LOCAL_POSTGRES)
    try:
        connection = await asyncpg.connect(
            host=server.host, port=server.port, user=server.username, database=server.database, timeout=3
        )
    except (OSError, TimeoutError, asyncpg.PostgresError):
        return None
    await connection.close()
    return server


async def _admin(server: URL, statement: str) -> None:
    connection = await asyncpg.connect(
        host=server.host,
        port=server.port or 5432,
        user=server.username,
        password=server.password,
        database=server.database or "postgres",
    )
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@pytest.fixture
async def new_database(tmp_path: Path) -> AsyncIterator[NewDatabase]:
    """``await new_database("sqlite" | "postgresql")`` → the URL of a new, empty database (PostgreSQL: with
    the server's default collation, or ICU's English one with ``linguistic=True``)."""
    created: list[tuple[URL, str]] = []

    async def make(dialect: str, *, linguistic: bool = False) -> str:
        name = f"decision_log_backup_{uuid.uuid4().hex[:10]}"
        if dialect == "sqlite":
            return f"sqlite:///{tmp_path / name}.db"
        server = await _postgres_server()
        if server is None:
            pytest.skip(f"the other engine, PostgreSQL, does not answer at {LOCAL_POSTGRES}")
        if not linguistic:
            await _admin(server, f'CREATE DATABASE "{name}"')
        else:  # where text does not sort in byte order, as on most servers (en_US.UTF-8 and the like)
            try:
                await _admin(
                    server, f"CREATE DATABASE \"{name}\" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en'"
                )
            except asyncpg.PostgresError as error:  # before PostgreSQL 15, or without ICU
                pytest.skip(f"cannot create a database with an ICU collation: {error}")
        created.append((server, name))
        return server.set(database=name).render_as_string(hide_password=False)

    yield make
    for server, name in created:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def domain_rows(url: str) -> int | None:
    """Rows in the domain tables; None when the database holds no schema at all."""
    if url.startswith("sqlite:///") and not os.path.exists(url.removeprefix("sqlite:///")):  # noqa: ASYNC240
        return None
    engine = create_async_engine(async_url(url))
    try:
        async with engine.connect() as connection:
            if DOMAIN_TABLES[0].name not in await connection.run_sync(lambda sync: sync.dialect.get_table_names(sync)):
                return None
            total = 0
            for table in DOMAIN_TABLES:
                total += (await connection.execute(select(func.count()).select_from(table))).scalar_one()
            return total
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.asynccontextmanager
async def client_on(url: str, key: str, *, process: bool = False) -> AsyncIterator[httpx.AsyncClient]:
    """The service on the database at ``url``, and a client of it: the app in this process, over HTTP (ASGI), as
    the rest of the suite talks to it; with ``process``, `decision-log serve` on 127.0.0.1."""
    if not process:
        app = create_app(get_settings().model_copy(update={"database_url": url}))
        async with LifespanManager(app), make_client(app, key) as client:
            yield client
        return
    port = _free_port()
    process = await asyncio.create_subprocess_exec(
        str(COMMAND),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        env={**os.environ, "DECISION_LOG_DATABASE_URL": url},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            async with asyncio.timeout(60):
                while True:
                    assert process.returncode is None, "the service exited at start"
                    with contextlib.suppress(httpx.TransportError):
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    await asyncio.sleep(0.1)
            yield client
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), timeout=30)
            except TimeoutError:
                process.kill()
                await process.wait()


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------


async def edge_cases(client: httpx.AsyncClient) -> dict[str, str]:
    """Every table, with the values a dump most easily gets wrong. Decision ids by name."""
    await factories.person(client, "edge.owner", name="Эдуард Гранев", team="рост")  # no email
    await factories.person(client, "edge.reviewer", name="Zoë O'Brien", email="zoe@example.com", team="brand")
    await factories.person(client, "edge.former", name="Фёдор Ёлкин", team="brand", active=False)
    await factories.person(client, "edge_zed", name="Zed", team="brand")  # "_" sorts apart in byte and ICU order
    await factories.source(client, "edge-src", kind="other", name="Источник «данных» 📊")  # no url
    await factories.source(client, "ga4", url="https://analytics.example.com/")
    for key, body in (
        ("edge-agency", {"name": "Агентство «Рост» 🚀", "kind": "agency"}),
        ("edge-former", {"name": "Former Freelancer", "kind": "freelancer", "active": False}),
    ):
        assert (await client.put(f"/v1/contractors/{key}", json=body)).status_code == 201
    await factories.strategy(client, "edge-empty", title="Стратегия без версий")  # no versions, no description
    await factories.strategy(client, "edge-plan", title="Plan", description="Рост через\nдве строки")
    await factories.version(client, "edge-plan", effective_from="2025-01-01T00:00:00.000001Z", summary="Первая")
    await factories.version(
        client,
        "edge-plan",
        effective_from="2025-06-30T23:59:59.999999Z",
        summary="Вторая",
        body='Тело\tс табуляцией и "кавычками" \\ и \u2028 разделителем строк',
        change_reason="",  # an unexplained change
        changed_by="edge.owner",
    )
    await factories.kpi(client, "edge-kpi", unit="шт.", kind="activity")  # no owner, target or direction
    await factories.kpi(client, "edge-kpi", unit="шт.", kind="activity", target=0.30000000000000004)
    await factories.kpi(
        client,
        "edge-kpi",
        unit="шт.",
        kind="activity",
        target=1e-7,
        direction="decrease",
        owner="edge.owner",
        change_reason="Цель уточнена",
    )
    await factories.kpi(client, "edge-money", name="Выручка", unit="RUB", target=123456789012.5, direction="increase")

    ids: dict[str, str] = {}
    ids["cents"] = (
        await factories.decision(
            client,
            title="Перераспределить бюджет 📈",
            description=None,
            rationale="Конверсия выше на 12,5 % — see the report.",
            evidence=[
                {"source": "edge-src", "reference": "отчёт №7", "metric": "cr", "value": 0.1, "note": "Ещё"},
                {"source": "ga4", "reference": "https://analytics.example.com/r/2", "value": "12 %"},
            ],
            owner="edge.owner",
            participants=["edge.reviewer", "edge.former"],
            channel="email",
            category="pricing",
            budget_amount=1234.56,
            budget_currency="EUR",
            decided_at="2025-03-01T10:00:00.123456Z",
            strategy="edge-plan",
            kpis=["edge-kpi", "edge-money"],
            expected_outcome={
                "description": "Выручка +5 %",
                "kpi": "edge-money",
                "target_value": 0.30000000000000004,
                "review_by": "2025-04-01T00:00:00.000001Z",
            },
            tags=["тест", "edge"],
            external_ref={"system": "crm", "id": "Д-1"},
            contractor="edge-agency",
            directed_by="edge.reviewer",
            confidence=0.30000000000000004,
            alternatives=[{"title": "Оставить как есть", "reason_rejected": "Нет роста"}, {"title": "Wait"}],
            data_recommendation={"option": "Cut the price", "followed": False},
        )
    )["id"]
    ids["bare"] = (
        await factories.decision(
            client,
            title="Gut call",
            rationale="Feels right. Очевидно, все так делают.",
            basis="emotion",
            evidence=[],
            owner="edge.reviewer",
            channel=None,
            category="other",
            decided_at="2025-07-01",
        )
    )["id"]
    ids["unsupported"] = (
        await factories.decision(
            client,
            title="Claimed data",
            rationale="The numbers say so.",
            basis="data",
            evidence=[],
            owner="edge.owner",
            budget_amount=123456789012.34,
            budget_currency="RUB",
            decided_at="2025-07-02T00:00:00.000001+03:00",
        )
    )["id"]
    ids["cent"] = (
        await factories.decision(
            client, owner="edge.owner", budget_amount=0.01, budget_currency="USD", decided_at="2025-07-03T12:00:00Z"
        )
    )["id"]
    # An older decision superseded by a newer one (its row comes first in the file) and the other way round.
    await factories.reverse(client, ids["cents"], by="edge.reviewer", superseded_by=ids["cent"], reason="Заменено")
    await factories.reverse(client, ids["cent"], by="edge.owner", superseded_by=ids["bare"], reason="Again")
    await factories.reverse(client, ids["unsupported"], by="edge.owner", reason="Отменено: бюджет урезан")
    await factories.edit(client, ids["bare"], edit_reason="Уточнение", description="Теперь с описанием")
    await factories.outcome(
        client,
        ids["bare"],
        result="partial",
        cause="execution",
        notes="Частично",
        actual_value=0.30000000000000004,
        reviewed_by="edge.reviewer",
        reviewed_at="2025-08-01T08:00:00.5Z",
    )
    return ids


# ---------------------------------------------------------------------------------------------
# What the API answers
# ---------------------------------------------------------------------------------------------


async def get(client: httpx.AsyncClient, path: str, **params: Any) -> Any:
    response = await client.get(path, params=params)
    assert response.status_code == 200, f"{path}: {response.text}"
    return response.json()


async def every(client: httpx.AsyncClient, path: str, **params: Any) -> list[Any]:
    """Every item of a list, page after page."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = await get(client, path, limit=500, **params, **({"cursor": cursor} if cursor else {}))
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def answers(client: httpx.AsyncClient, to: str) -> dict[str, Any]:
    """What clients see: every record and its history, and the analytics over a fixed range."""
    out: dict[str, Any] = {
        "people": await every(client, "/v1/people"),
        "data_sources": await every(client, "/v1/data-sources"),
        "contractors": await every(client, "/v1/contractors"),
        "decisions": await every(client, "/v1/decisions"),
        "strategies": await every(client, "/v1/strategies"),
        "kpis": await every(client, "/v1/kpis"),
    }
    out["decision_revisions"] = {
        d["id"]: await every(client, f"/v1/decisions/{d['id']}/revisions") for d in out["decisions"]
    }
    out["strategy_versions"] = {
        s["key"]: await every(client, f"/v1/strategies/{s['key']}/versions") for s in out["strategies"]
    }
    out["kpi_revisions"] = {k["key"]: await every(client, f"/v1/kpis/{k['key']}/revisions") for k in out["kpis"]}
    out["etags"] = {
        d["id"]: (await client.get(f"/v1/decisions/{d['id']}")).headers["etag"] for d in out["decisions"][:25]
    }
    export = await client.get("/v1/exports/decisions")
    assert export.status_code == 200, export.text
    out["export"] = [json.loads(line) for line in export.text.splitlines() if line]
    for path, params in [
        ("/v1/analytics/summary", {}),
        ("/v1/analytics/basis", {"bucket": "month"}),
        ("/v1/analytics/basis", {"bucket": "none", "group_by": "owner", "weight": "budget", "currency": "EUR"}),
        ("/v1/analytics/strategy-changes", {"bucket": "month"}),
        ("/v1/analytics/kpis", {}),
        ("/v1/analytics/accountability", {}),
        ("/v1/analytics/outcomes", {}),
    ]:
        out[f"{path}?{sorted(params.items())}"] = await get(client, path, to=to, **params)
    return out


def row_lines(path: Path) -> list[str]:
    """The file's row lines and end line: everything but the header, which says when and from where."""
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="\n") as stream:  # type: ignore[operator]
        lines = stream.read().split("\n")
    assert lines[-1] == ""
    return lines[1:-1]


def header(path: Path) -> dict[str, Any]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as stream:  # type: ignore[operator]
        return json.loads(stream.readline())  # type: ignore[no-any-return]


def rewrite(path: Path, target: Path, edit: Callable[[list[str]], list[str]], *, reseal: bool = False) -> Path:
    """Write ``target`` from ``path``'s lines (plain text) after ``edit``; ``reseal`` recomputes the header's
    counts and the end line, as a careful forger would."""
    with open(path, encoding="utf-8", newline="\n") as stream:
        lines = edit(stream.read().split("\n")[:-1])
    if reseal:
        first, rows = json.loads(lines[0]), [line for line in lines[1:] if not line.startswith('{"end"')]
        first["counts"] = {name: sum(f'"table":"{name}",' in line for line in rows) for name in first["tables"]}
        digest = hashlib.sha256("".join(line + "\n" for line in rows).encode()).hexdigest()
        lines = [json.dumps(first), *rows, json.dumps({"end": {"rows": len(rows), "sha256": digest}})]
    target.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return target


# ---------------------------------------------------------------------------------------------
# Round trips
# ---------------------------------------------------------------------------------------------


async def test_round_trip_through_the_other_engine_gives_identical_answers(
    db, client, keys, new_database: NewDatabase, tmp_path: Path
):
    await run_demo(db)
    await edge_cases(client)
    to = format_utc(utcnow())
    original = await answers(client, to)
    other = await new_database(OTHER)  # skips when the other engine is not there
    back = await new_database(DIALECT)

    first, second, third = tmp_path / "first.ndjson.gz", tmp_path / "second.ndjson", tmp_path / "third.ndjson.gz"
    await export(DATABASE_URL, first, "--include-keys")  # the same keys then work on every copy
    await import_(other, first)
    await export(other, second, "--include-keys")
    await import_(back, second)
    await export(back, third, "--include-keys")

    # The same rows, byte for byte, whichever engine held them.
    assert header(first)["database"] == DIALECT and header(second)["database"] == OTHER
    assert row_lines(first) == row_lines(second) == row_lines(third)
    async with client_on(other, keys["admin"], process=True) as on_other:  # the real server, once
        assert await answers(on_other, to) == original
    async with client_on(back, keys["admin"]) as on_back:
        assert await answers(on_back, to) == original


async def test_imported_database_takes_new_writes(db, client, keys, new_database: NewDatabase, tmp_path: Path):
    """Serial ids (strategy versions, KPI revisions) continue after the imported ones, on both engines."""
    ids = await edge_cases(client)
    dump = tmp_path / "edge.ndjson"
    await export(DATABASE_URL, dump, "--include-keys")
    for dialect in (DIALECT, OTHER):
        target = await new_database(dialect)
        await import_(target, dump)
        async with client_on(target, keys["admin"]) as other:
            await factories.kpi(other, "edge-kpi", unit="шт.", kind="activity", change_reason="After the move")
            revisions = await every(other, "/v1/kpis/edge-kpi/revisions")
            assert [r["revision"] for r in revisions] == [1, 2, 3, 4]
            added = await factories.version(other, "edge-plan", effective_from="2025-09-01T00:00:00Z", summary="3")
            assert added["number"] == 3
            created = await factories.decision(other, owner="edge.owner", decided_at="2025-09-02T00:00:00Z")
            assert created["revision"] == 1
            await factories.edit(other, ids["bare"], edit_reason="After the move", title="Moved")


async def test_round_trip_on_the_same_engine_is_exact(db, client, new_database: NewDatabase, tmp_path: Path):
    await edge_cases(client)
    to = format_utc(utcnow())
    original = await answers(client, to)
    target = await new_database(DIALECT)

    # The installed console script itself, in processes of its own.
    await export(DATABASE_URL, tmp_path / "a.ndjson", process=True)
    await import_(target, tmp_path / "a.ndjson", process=True)
    await export(target, tmp_path / "b.ndjson.gz", process=True)

    assert row_lines(tmp_path / "a.ndjson") == row_lines(tmp_path / "b.ndjson.gz")
    first = header(tmp_path / "a.ndjson")
    assert first["format"] == "decision-log-backup" and first["version"] == 1
    assert first["tables"] == [t.name for t in DOMAIN_TABLES]  # no api_key without --include-keys
    assert {name: first["counts"][name] for name in first["tables"] if not name.startswith("integrity_")} == {
        "person": 4,
        "data_source": 2,
        "contractor": 2,
        "strategy": 2,
        "strategy_version": 2,
        "kpi": 2,
        "kpi_revision": 4,
        "decision": 4,
        "decision_revision": 9,
        "review_due": 0,
        "digest_run": 0,
    }
    assert first["counts"] == header(tmp_path / "b.ndjson.gz")["counts"]
    # A key of the test database does not exist there: create one in the copy to read it.
    code, out, err = await run_cli(target, "keys", "create", "--name", "reader", "--scope", "read")
    assert code == 0, err
    async with client_on(target, out.strip().splitlines()[-1]) as copy:
        assert await answers(copy, to) == original


async def test_moved_database_still_verifies(db, client, new_database: NewDatabase, tmp_path: Path):
    """The tamper-evident log moves with the record: `decision-log verify` passes on the copy, on both engines."""
    await edge_cases(client)
    dump = tmp_path / "a.ndjson"
    await export(DATABASE_URL, dump)
    assert header(dump)["counts"]["integrity_entry"] > 0
    for dialect in (DIALECT, OTHER):
        target = await new_database(dialect)
        await import_(target, dump)

        code, out, err = await run_cli(target, "verify")

        assert code == 0, out + err
        assert "OK" in out


async def test_export_order_does_not_depend_on_the_collation(db, client, new_database: NewDatabase, tmp_path):
    """Rows come in byte order of their keys on PostgreSQL too, whatever the database's collation."""
    await edge_cases(client)
    await export(DATABASE_URL, tmp_path / "a.ndjson")
    target = await new_database("postgresql", linguistic=True)

    await import_(target, tmp_path / "a.ndjson")
    await export(target, tmp_path / "b.ndjson")

    assert row_lines(tmp_path / "b.ndjson") == row_lines(tmp_path / "a.ndjson")


async def test_lists_keyed_by_text_answer_the_same_order_after_a_move(
    db, client, keys, new_database: NewDatabase, tmp_path: Path
):
    await edge_cases(client)
    expected = await every(client, "/v1/people")
    await export(DATABASE_URL, tmp_path / "a.ndjson", "--include-keys")
    target = await new_database("postgresql", linguistic=True)
    await import_(target, tmp_path / "a.ndjson")

    async with client_on(target, keys["read"]) as moved:
        assert await every(moved, "/v1/people") == expected


async def test_export_writes_canonical_values(db, client, tmp_path: Path):
    ids = await edge_cases(client)
    await export(DATABASE_URL, tmp_path / "a.ndjson")

    rows = [json.loads(line) for line in row_lines(tmp_path / "a.ndjson")[:-1]]
    decisions = {r["row"]["id"]: r["row"] for r in rows if r["table"] == "decision"}
    cents = decisions[ids["cents"]]
    assert cents["budget_amount"] == "1234.56"
    assert cents["decided_at"] == "2025-03-01T10:00:00.123456Z"
    assert cents["title"] == "Перераспределить бюджет 📈"
    assert cents["description"] is None
    assert cents["superseded_by"] == ids["cent"] and cents["status"] == "superseded"
    assert cents["expected_outcome"]["target_value"] == 0.30000000000000004
    assert decisions[ids["cent"]]["budget_amount"] == "0.01"
    assert decisions[ids["unsupported"]]["budget_amount"] == "123456789012.34"
    assert decisions[ids["unsupported"]]["decided_at"] == "2025-07-01T21:00:00.000001Z"
    assert decisions[ids["bare"]]["outcome_actual_value"] == 0.30000000000000004
    assert decisions[ids["bare"]]["outcome_reviewed_at"] == "2025-08-01T08:00:00.500000Z"
    people = {r["row"]["handle"]: r["row"] for r in rows if r["table"] == "person"}
    assert people["edge.owner"]["email"] is None and people["edge.former"]["active"] is False
    kpi = next(r["row"] for r in rows if r["table"] == "kpi" and r["row"]["key"] == "edge-kpi")
    assert kpi["target"] == 1e-7 and kpi["revision"] == 3
    # Parents before children, rows in key order.
    tables = [r["table"] for r in rows]
    assert tables == sorted(tables, key=[t.name for t in DOMAIN_TABLES].index)
    assert list(people) == sorted(people)


async def test_amounts_move_exactly_between_engines(db, client, keys, new_database: NewDatabase, tmp_path: Path):
    """Budgets past a double's precision and in currencies of 0 to 4 decimals: the file holds their exact decimal
    strings, and the database on the other engine answers them digit for digit."""
    await factories.basics(client)
    amounts = {"99999999999999.99": "EUR", "98765432109876.54": "USD", "0.0001": "CLF", "1.234": "KWD", "7": "JPY"}
    for amount, currency in amounts.items():
        body = json.dumps(factories.decision_body(title=amount, budget_amount="?", budget_currency=currency))
        response = await client.post(
            "/v1/decisions", content=body.replace('"?"', amount), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 201, response.text
    original = (await client.get("/v1/decisions", params={"limit": 500})).content
    other = await new_database(OTHER)  # skips when the other engine is not there

    await export(DATABASE_URL, tmp_path / "money.ndjson", "--include-keys")
    await import_(other, tmp_path / "money.ndjson")

    rows = [json.loads(line)["row"] for line in row_lines(tmp_path / "money.ndjson")[:-1]]
    assert {r["title"]: r["budget_amount"] for r in rows if "budget_amount" in r} == {a: a for a in amounts}
    async with client_on(other, keys["read"]) as moved:
        assert (await moved.get("/v1/decisions", params={"limit": 500})).content == original
        budgets = (await moved.get("/v1/exports/decisions")).text
    assert '"budget_amount":99999999999999.99,' in budgets and '"budget_amount":98765432109876.54,' in budgets


def test_every_table_is_exported_or_left_out_on_purpose():
    # A new table must be added to app.backup (exported, or transient), or export and import refuse to run.
    assert unknown_tables() == []


# ---------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------


async def test_api_keys_are_exported_only_when_asked(db, client, keys, tmp_path: Path):
    await edge_cases(client)
    await export(DATABASE_URL, tmp_path / "plain.ndjson")
    await export(DATABASE_URL, tmp_path / "keys.ndjson", "--include-keys")

    plain = (tmp_path / "plain.ndjson").read_text(encoding="utf-8")
    assert '"api_key"' not in plain and "secret_hash" not in plain
    with_keys = (tmp_path / "keys.ndjson").read_text(encoding="utf-8")
    assert header(tmp_path / "keys.ndjson")["tables"][-1] == "api_key"
    assert '"table":"api_key"' in with_keys and "test-admin" in with_keys
    for key in keys.values():  # hashes only: the secrets are nowhere
        assert key not in with_keys and key.split("_", 2)[2] not in with_keys


# ---------------------------------------------------------------------------------------------
# Refusals
# ---------------------------------------------------------------------------------------------


async def test_import_into_a_non_empty_database_is_refused(db, client, new_database: NewDatabase, tmp_path: Path):
    await edge_cases(client)
    dump = tmp_path / "a.ndjson"
    await export(DATABASE_URL, dump)
    target = await new_database(DIALECT)
    await import_(target, dump)
    await export(target, tmp_path / "before.ndjson")

    code, out, err = await run_cli(target, "import", str(dump))

    assert code == 1
    assert "already holds data" in err and "--force" in err
    assert "imported" not in out
    await export(target, tmp_path / "after.ndjson")
    assert row_lines(tmp_path / "after.ndjson") == row_lines(tmp_path / "before.ndjson")


async def test_import_force_replaces_the_data_and_keeps_the_keys(db, client, new_database: NewDatabase, tmp_path):
    await edge_cases(client)
    dump = tmp_path / "a.ndjson"
    await export(DATABASE_URL, dump)
    # The test database changes after the export: one more person and decision, one more correction.
    await factories.person(client, "later.person", team="growth")
    later = await factories.decision(client, owner="later.person", decided_at="2025-10-01T00:00:00Z")
    response = await client.post("/v1/decisions", json=factories.decision_body(owner="edge.owner"))
    assert response.status_code == 201

    code, _, err = await run_cli(DATABASE_URL, "import", "--force", str(dump))

    assert code == 0, err
    await export(DATABASE_URL, tmp_path / "after.ndjson")
    # What the file holds, exactly; the running service's sealer may have chained the imported entries since.
    chain = ('{"table":"integrity_link"', '{"table":"integrity_checkpoint"', '{"end"')
    after, before = row_lines(tmp_path / "after.ndjson"), row_lines(dump)
    assert [line for line in after if not line.startswith(chain)] == [
        line for line in before if not line.startswith(chain)
    ]
    assert set(before[:-1]) <= set(after)
    assert (await client.get(f"/v1/decisions/{later['id']}")).status_code == 404
    assert (await client.get("/v1/people/later.person")).status_code == 404
    # The API keys were not in the file: they are kept, and still work.
    assert (await client.get("/v1/people/edge.owner")).status_code == 200


async def assert_refused(url: str, path: Path, message: str) -> None:
    code, out, err = await run_cli(url, "import", str(path))
    assert code == 1, (out, err)
    assert message in err, err
    assert "Traceback" not in err
    assert not await domain_rows(url)  # nothing written (or not even a schema)


async def test_damaged_or_truncated_files_are_refused_with_nothing_written(
    db, client, new_database: NewDatabase, tmp_path: Path
):
    await run_demo(db)
    dump, packed = tmp_path / "a.ndjson", tmp_path / "a.ndjson.gz"
    await export(DATABASE_URL, dump)
    await export(DATABASE_URL, packed)
    target = await new_database(DIALECT)
    data = dump.read_bytes()
    decision_line = next(i for i, line in enumerate(data.split(b"\n")) if b'"table":"decision"' in line)

    # Cut at a line boundary (the end line is missing), and in the middle of a line.
    lines = data.split(b"\n")
    (tmp_path / "cut.ndjson").write_bytes(b"\n".join(lines[: decision_line + 5]) + b"\n")
    await assert_refused(target, tmp_path / "cut.ndjson", "truncated")
    (tmp_path / "torn.ndjson").write_bytes(data[: len(data) // 2])
    await assert_refused(target, tmp_path / "torn.ndjson", "truncated")
    # A gzip file cut short.
    (tmp_path / "cut.ndjson.gz").write_bytes(packed.read_bytes()[:-100])
    await assert_refused(target, tmp_path / "cut.ndjson.gz", "unreadable")
    # A byte changed inside a gzip file: its CRC says so.
    damaged = bytearray(packed.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    (tmp_path / "flipped.ndjson.gz").write_bytes(bytes(damaged))
    await assert_refused(target, tmp_path / "flipped.ndjson.gz", "")
    # A value changed: still valid JSON, but the digest of the rows differs.
    changed = data.replace(b'"budget_amount":"', b'"budget_amount":"1', 1)
    (tmp_path / "changed.ndjson").write_bytes(changed)
    await assert_refused(target, tmp_path / "changed.ndjson", "SHA-256")
    # A line that is not JSON.
    garbled = data.replace(b'{"table":"decision"', b'{"table":"decision"<<', 1)
    (tmp_path / "garbled.ndjson").write_bytes(garbled)
    await assert_refused(target, tmp_path / "garbled.ndjson", "not valid JSON")

    # A row dropped, counts and digest recomputed to match: the database refuses the orphaned rows, and the
    # people, sources, strategies… inserted before that are rolled back with them.
    def without_anna(lines: list[str]) -> list[str]:
        return [line for line in lines if not (line.startswith('{"table":"person"') and "anna.petrova" in line)]

    orphaned = rewrite(dump, tmp_path / "orphaned.ndjson", without_anna, reseal=True)
    await assert_refused(target, orphaned, "the database refused the data")

    # A value of the wrong type, resealed.
    def revision_as_text(lines: list[str]) -> list[str]:
        return [lines[0], *(line.replace('"revision":1,', '"revision":"1",') for line in lines[1:])]

    typed = rewrite(dump, tmp_path / "typed.ndjson", revision_as_text, reseal=True)
    await assert_refused(target, typed, "expected an integer")
    # The target is still usable: the right file imports.
    await import_(target, dump)


async def test_a_file_cut_after_a_superseded_decision_is_refused_as_truncated(
    db, client, new_database: NewDatabase, tmp_path: Path
):
    await factories.basics(client)
    first = await factories.decision(client, title="The first plan")
    second = await factories.decision(client, title="The revised plan")
    await factories.reverse(client, first["id"], superseded_by=second["id"])
    dump = tmp_path / "a.ndjson"
    await export(DATABASE_URL, dump)
    target = await new_database(DIALECT)
    lines = dump.read_bytes().split(b"\n")
    first_line = next(i for i, line in enumerate(lines) if first["id"].encode() in line and b'"decision"' in line)

    # The cut keeps the superseded decision and drops the one it points to.
    (tmp_path / "cut.ndjson").write_bytes(b"\n".join(lines[: first_line + 1]) + b"\n")
    await assert_refused(target, tmp_path / "cut.ndjson", "truncated")


async def test_other_format_version_is_refused_before_touching_the_database(
    db, client, new_database: NewDatabase, tmp_path: Path
):
    await edge_cases(client)
    dump = tmp_path / "a.ndjson"
    await export(DATABASE_URL, dump)
    target = await new_database(DIALECT)

    def version(number: object) -> Callable[[list[str]], list[str]]:
        def edit(lines: list[str]) -> list[str]:
            first = json.loads(lines[0])
            first["version"] = number
            return [json.dumps(first), *lines[1:]]

        return edit

    await assert_refused(target, rewrite(dump, tmp_path / "v2.ndjson", version(2)), "format version 2")
    await assert_refused(target, rewrite(dump, tmp_path / "v0.ndjson", version("1")), "reads version 1 only")
    assert await domain_rows(target) is None  # not even migrated

    def schema(lines: list[str]) -> list[str]:
        first = json.loads(lines[0])
        first["schema_revision"] = "0123456789ab"
        return [json.dumps(first), *lines[1:]]

    await assert_refused(target, rewrite(dump, tmp_path / "schema.ndjson", schema), "schema revision '0123456789ab'")
    (tmp_path / "other.json").write_text('{"hello": "world"}\n', encoding="utf-8")
    await assert_refused(target, tmp_path / "other.json", "not a decision-log export")
    (tmp_path / "empty.ndjson").write_bytes(b"")
    await assert_refused(target, tmp_path / "empty.ndjson", "empty")
    await assert_refused(target, tmp_path / "missing.ndjson", "cannot read")
    assert await domain_rows(target) is None


async def test_export_of_a_missing_database_fails_and_writes_no_file(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'nothing.db'}"

    code, _, err = await run_cli(url, "export", str(tmp_path / "out.ndjson"))

    assert code == 1
    assert "no database file" in err
    assert sorted(os.listdir(tmp_path)) == []
    code, _, err = await run_cli(DATABASE_URL, "export", str(tmp_path / "no" / "such" / "dir.ndjson"))
    assert code == 1 and "export failed" in err


async def test_export_reads_one_snapshot_while_the_service_writes(db, client, tmp_path: Path):
    """Counts in the header and rows in the file agree even when decisions are posted during the export."""
    await run_demo(db)
    dump = tmp_path / "a.ndjson.gz"
    stop = asyncio.Event()

    async def writer() -> int:
        posted = 0
        while not stop.is_set():
            response = await client.post("/v1/decisions", json=factories.decision_body(owner="anna.petrova"))
            assert response.status_code == 201, response.text
            posted += 1
        return posted

    task = asyncio.create_task(writer())
    try:
        code, _, err = await run_cli(DATABASE_URL, "export", str(dump))
    finally:
        stop.set()
    assert await task > 0
    assert code == 0, err
    lines = row_lines(dump)
    counts = header(dump)["counts"]
    assert len(lines) - 1 == sum(counts.values())
    assert sum('"table":"decision",' in line for line in lines) == counts["decision"]
