"""Analytics at scale: ``GET /v1/analytics/basis`` on 1,000,000 decisions in PostgreSQL and 100,000 in
SQLite, against the raw SQL of the same aggregation run directly through the driver, same run.

    .venv/bin/python bench/analytics.py                       # or: make bench-analytics
    .venv/bin/python bench/analytics.py --engines postgresql --pg-rows 200000 --repetitions 10
    .venv/bin/python bench/analytics.py --engines postgresql --load api --later 60   # as users load it

Every API case is also timed in another zone (``--tz``, default America/New_York; '' to skip): the same request
with ``tz=<zone>``, which is what a service configured with ``DECISION_LOG_TIMEZONE=<zone>`` answers by default
(the setting only fills in ``tz``). The rollup keeps UTC months; the zone's answer adds the decisions near each
month edge (``api tz``, and ``tz/utc`` its ratio to the UTC answer: goal <= 1.2x).

``--load api`` posts the decisions through ``POST /v1/decisions/batch`` (batches of 1,000, ``--api-clients``
clients) instead of loading them directly, and times the cases right after the ingest, with whatever the
service's background folding has done by then, and again ``--later`` seconds later.

What one run does, for each engine:

1. a throw-away database (PostgreSQL on ``--pg``, or a SQLite file in /tmp), migrated, a key, the service
   (``decision-log serve``, one worker), the organisation of bench/common.py (the demo's, grown) registered through
   the API (50 people in three teams, 8 channels, 2 strategies with versions);
2. loads the decisions directly, untimed (``--pg-rows`` 1,000,000 by COPY with the secondary indexes
   rebuilt afterwards, ``--sqlite-rows`` 100,000 by multi-row INSERT; then VACUUM ANALYZE / ANALYZE):
   three years, activity following the season and the working week, owners with their
   own habits (data or gut, evidence, budgets in three currencies, reviews, reversals);
3. for each case: (a) ``bucket=month`` over the three years, (b) the same grouped by owner
   (``group_by=owner``: month x owner), (c) ``owner=<the most active owner>`` over one calendar year.
   Three ways of getting the same figures, interleaved (their order rotating), after ``--warmup``
   unmeasured repetitions, ``--repetitions`` (20) times each:
   - **api**: the HTTP request, timed by the client (keep-alive);
   - **app_sql**: the statement the service runs (captured from SQLAlchemy in-process, with its
     parameters), executed directly through the driver (asyncpg, prepared; or sqlite3);
   - **base_sql**: the statement the service runs without its rollup, through the driver too;
   - **raw_sql**: the aggregation as one would write it by hand (``count(*) FILTER``; SQLite ``sum(cond)``);
   all three must give the same rows;
4. EXPLAIN (ANALYZE, BUFFERS) of the service's statement and of the raw SQL (SQLite: EXPLAIN QUERY PLAN).
   On PostgreSQL three plans of the service's statement: the custom plan of a first execution, the plan
   after 6 executions of the prepared statement (what a pooled connection settles on) and the generic
   plan; which indexes each uses, and the JIT time;
5. unless ``--no-index-experiment``, changes tried on the throw-away database only, one after the other
   (the migrations are not touched): on PostgreSQL expression statistics on the month bucket (so the
   planner expects 36 groups, not a million), then covering indexes (index-only scans); on SQLite the
   covering indexes. After each, the cases are timed again (``--experiment-repetitions``, 10) and
   explained again; then the database is dropped.

After the load, the rollup deltas the triggers appended are folded (what the service's background folding
does within seconds). ``app_sql`` is the service's statement (the rollup's cells, pending deltas and the
partial months from the decisions); ``base_sql`` the statement it runs with
``DECISION_LOG_ANALYTICS_ROLLUPS=false`` (the decisions alone).

The target is api <= 1.2 x raw_sql (p50); the goal is api p50 under 50 ms at 1 M. Shared 2-core machine:
compare within a run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from common import (
    DEFAULT_PG,
    RESULTS,
    Organisation,
    Service,
    copy_into_pg,
    git_state,
    insert_into_sqlite,
    log,
    machine_note,
    organisation,
    register,
    service,
    stored_rows,
    summary_ms,
)

METHODS = ("api", "app_sql", "base_sql", "raw_sql")
CASES = ("month", "month_by_owner", "owner_year")

PG_MONTH = "date_trunc('month', decided_at AT TIME ZONE 'UTC')::date"
SQLITE_MONTH = "substr(decided_at, 1, 7) || '-01'"
PG_RAW = {
    "month": f"""SELECT {PG_MONTH} AS period_start, NULL AS "group", count(*) AS total,
  count(*) FILTER (WHERE basis_class = 'data') AS data, count(*) FILTER (WHERE basis_class = 'emotion') AS emotion,
  count(*) FILTER (WHERE classification_reason = 'data_claim_without_evidence') AS emotion_unsupported
FROM decision WHERE decided_at >= $1 AND decided_at < $2 GROUP BY 1 ORDER BY 1""",
    "month_by_owner": f"""SELECT {PG_MONTH} AS period_start, owner_handle AS "group", count(*) AS total,
  count(*) FILTER (WHERE basis_class = 'data') AS data, count(*) FILTER (WHERE basis_class = 'emotion') AS emotion,
  count(*) FILTER (WHERE classification_reason = 'data_claim_without_evidence') AS emotion_unsupported
FROM decision WHERE decided_at >= $1 AND decided_at < $2 GROUP BY 1, 2 ORDER BY 1, 2""",
    "owner_year": f"""SELECT {PG_MONTH} AS period_start, NULL AS "group", count(*) AS total,
  count(*) FILTER (WHERE basis_class = 'data') AS data, count(*) FILTER (WHERE basis_class = 'emotion') AS emotion,
  count(*) FILTER (WHERE classification_reason = 'data_claim_without_evidence') AS emotion_unsupported
FROM decision WHERE decided_at >= $1 AND decided_at < $2 AND owner_handle = $3 GROUP BY 1 ORDER BY 1""",
}
SQLITE_RAW = {
    "month": f"""SELECT {SQLITE_MONTH} AS period_start, NULL AS "group", count(*) AS total,
  sum(basis_class = 'data') AS data, sum(basis_class = 'emotion') AS emotion,
  sum(classification_reason = 'data_claim_without_evidence') AS emotion_unsupported
FROM decision WHERE decided_at >= ? AND decided_at < ? GROUP BY 1 ORDER BY 1""",
    "month_by_owner": f"""SELECT {SQLITE_MONTH} AS period_start, owner_handle AS "group", count(*) AS total,
  sum(basis_class = 'data') AS data, sum(basis_class = 'emotion') AS emotion,
  sum(classification_reason = 'data_claim_without_evidence') AS emotion_unsupported
FROM decision WHERE decided_at >= ? AND decided_at < ? GROUP BY 1, 2 ORDER BY 1, 2""",
    "owner_year": f"""SELECT {SQLITE_MONTH} AS period_start, NULL AS "group", count(*) AS total,
  sum(basis_class = 'data') AS data, sum(basis_class = 'emotion') AS emotion,
  sum(classification_reason = 'data_claim_without_evidence') AS emotion_unsupported
FROM decision WHERE decided_at >= ? AND decided_at < ? AND owner_handle = ? GROUP BY 1 ORDER BY 1""",
}
# Changes tried on the throw-away database only, one step after the other (each keeps the previous):
# custom plans on every execution; expression statistics, so the planner knows a month bucket has
# tens of values, not a million (PostgreSQL 14+); then covering indexes, for index-only scans.
PG_STEPS = (
    # Plans for the values at hand on every execution, never the generic plan (which for a range of
    # unknown bounds expects 0.5 % of the rows and picks an index scan). Set for the database, then
    # the service restarted so that its connections pick it up.
    ("custom plans", ("ALTER DATABASE {database} SET plan_cache_mode = force_custom_plan",)),
    (
        "expression statistics",
        (
            "CREATE STATISTICS bench_decision_month ON (date_trunc('month', decided_at AT TIME ZONE 'UTC')::date)"
            " FROM decision",
            "CREATE STATISTICS bench_decision_month_owner (ndistinct)"
            " ON (date_trunc('month', decided_at AT TIME ZONE 'UTC')::date), owner_handle FROM decision",
        ),
    ),
    (
        "covering indexes",
        (
            "CREATE INDEX bench_decision_decided_at_cover ON decision (decided_at)"
            " INCLUDE (basis_class, classification_reason, owner_handle)",
            "CREATE INDEX bench_decision_owner_decided_at_cover ON decision (owner_handle, decided_at)"
            " INCLUDE (basis_class, classification_reason)",
        ),
    ),
)
SQLITE_STEPS = (
    (
        "covering indexes",
        (
            "CREATE INDEX bench_decision_decided_at_cover ON decision (decided_at, basis_class,"
            " classification_reason, owner_handle)",
            "CREATE INDEX bench_decision_owner_decided_at_cover ON decision (owner_handle, decided_at, basis_class,"
            " classification_reason)",
        ),
    ),
)


def utc_text(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def sqlite_time(value: datetime) -> str:
    """How the service stores a time on SQLite (naive UTC text)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def pg_literal(value: Any) -> str:
    """A driver parameter as an SQL literal (for SQL-level PREPARE / EXECUTE)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        return f"'{value.isoformat()}'::timestamptz"
    return "'" + str(value).replace("'", "''") + "'"


def case_parameters(org: Organisation, top_owner: str) -> dict[str, dict[str, Any]]:
    year = org.end.year - 1
    year_start, year_end = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    return {
        "month": {"start": org.start, "end": org.end, "group_by": None, "owner": None},
        "month_by_owner": {"start": org.start, "end": org.end, "group_by": "owner", "owner": None},
        "owner_year": {"start": year_start, "end": year_end, "group_by": None, "owner": top_owner},
    }


def api_params(case: dict[str, Any]) -> dict[str, str]:
    params = {"bucket": "month", "from": utc_text(case["start"]), "to": utc_text(case["end"])}
    if case["group_by"]:
        params["group_by"] = case["group_by"]
    if case["owner"]:
        params["owner"] = case["owner"]
    return params


def normalise(rows: list[Any]) -> list[tuple[Any, ...]]:
    """Rows as comparable tuples, empty (zero-filled) buckets left out."""
    out = []
    for r in rows:
        get = r.get if isinstance(r, dict) else (lambda k, r=r: r[k])
        period = get("period_start")
        period = period.isoformat() if isinstance(period, date) else str(period)
        # The service's statement names its counts `<figure>_n` (budgets are `<figure>_high`/`_low`).
        values = tuple(
            int(get(name) if get(name) is not None else get(f"{name}_n"))
            for name in ("total", "data", "emotion", "emotion_unsupported")
        )
        if values[0]:
            out.append((period, get("group"), *values))
    return out


# ---------------------------------------------------------------------------------------------
# The service's own statement, captured in-process
# ---------------------------------------------------------------------------------------------


async def capture_statement(url: str, case: dict[str, Any], *, rollups: bool = True) -> tuple[str, tuple[Any, ...]]:
    """The last SQL statement (and its driver parameters) the service's basis analytics runs for ``case``;
    ``rollups=False``: the statement it runs with ``DECISION_LOG_ANALYTICS_ROLLUPS=false`` (decisions only)."""
    from sqlalchemy import event

    from app.analytics import service as analytics
    from app.analytics.schemas import Bucket, GroupBy, Weight
    from app.core.config import get_settings
    from app.core.unit_of_work import Database
    from app.decisions.repository import DecisionFilters

    database = Database(get_settings().model_copy(update={"analytics_rollups": rollups}), url=url)
    captured: list[tuple[str, tuple[Any, ...]]] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, tuple(parameters or ())))

    event.listen(database.engine.sync_engine, "before_cursor_execute", before)
    try:
        async with database.sessionmaker() as session:
            await analytics.basis(
                session,
                start=case["start"],
                end=case["end"],
                bucket=Bucket.month,
                group_by=GroupBy(case["group_by"] or "none"),
                weight=Weight.count,
                currency=None,
                filters=DecisionFilters(owner=case["owner"]),
            )
    finally:
        await database.dispose()
    statement, parameters = next(c for c in reversed(captured) if "decision" in c[0] and "GROUP BY" in c[0].upper())
    return statement, parameters


# ---------------------------------------------------------------------------------------------
# Runners: each returns a callable that runs the query once and returns its rows
# ---------------------------------------------------------------------------------------------


class PgRunner:
    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.loop = asyncio.new_event_loop()
        # As the service's connections: UTC, so date_trunc gives the same days.
        self.connection = self.loop.run_until_complete(
            asyncpg.connect(dsn, server_settings={"timezone": "UTC", "application_name": "bench-analytics"})
        )

    def query(self, sql: str, params: tuple[Any, ...]) -> Callable[[], list[Any]]:
        def run() -> list[Any]:
            return [dict(r) for r in self.loop.run_until_complete(self.connection.fetch(sql, *params))]

        return run

    def explain(self, sql: str, params: tuple[Any, ...], mode: str = "custom") -> str:
        """EXPLAIN (ANALYZE, BUFFERS) of ``sql``. ``custom``: planned for these values, as a statement's
        first executions are. ``generic``: the plan for any values (``force_generic_plan``). ``repeated``:
        the plan PostgreSQL settles on once the prepared statement has run 6 times on a connection (from
        the 6th execution on it may switch to the generic plan), which is the service's pooled connections'
        case after a few requests. The last two go through SQL-level PREPARE, values as literals."""

        async def go() -> str:
            if mode == "custom":
                rows = await self.connection.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
                return "\n".join(r[0] for r in rows)
            values = ", ".join(pg_literal(v) for v in params)
            await self.connection.execute(f"PREPARE bench_plan AS {sql}")
            try:
                if mode == "generic":
                    await self.connection.execute("SET plan_cache_mode = force_generic_plan")
                else:
                    for _ in range(6):
                        await self.connection.fetch(f"EXECUTE bench_plan({values})")
                rows = await self.connection.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_plan({values})")
            finally:
                await self.connection.execute("RESET plan_cache_mode")
                await self.connection.execute("DEALLOCATE bench_plan")
            return "\n".join(r[0] for r in rows)

        return self.loop.run_until_complete(go())

    def execute(self, sql: str) -> None:
        self.loop.run_until_complete(self.connection.execute(sql))

    def fetchval(self, sql: str) -> Any:
        return self.loop.run_until_complete(self.connection.fetchval(sql))

    def reset_statements(self) -> None:
        """Forget prepared statements (after an index change their plans are stale)."""
        self.loop.run_until_complete(self.connection.reload_schema_state())

    def reconnect(self) -> None:
        """A new connection (it reads the database's settings afresh)."""
        self.loop.run_until_complete(self.connection.close())
        self.connection = self.loop.run_until_complete(
            asyncpg.connect(self.dsn, server_settings={"timezone": "UTC", "application_name": "bench-analytics"})
        )

    def close(self) -> None:
        self.loop.run_until_complete(self.connection.close())
        self.loop.close()


class SqliteRunner:
    def __init__(self, path: str) -> None:
        self.connection = sqlite3.connect(path, check_same_thread=False)

    def query(self, sql: str, params: tuple[Any, ...]) -> Callable[[], list[Any]]:
        def run() -> list[Any]:
            cursor = self.connection.execute(sql, params)
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, r, strict=True)) for r in cursor.fetchall()]

        return run

    def explain(self, sql: str, params: tuple[Any, ...], mode: str = "custom") -> str:
        rows = self.connection.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall()
        return "\n".join(str(r[-1]) for r in rows)

    def execute(self, sql: str) -> None:
        self.connection.execute(sql)
        self.connection.commit()

    def fetchval(self, sql: str) -> Any:
        return self.connection.execute(sql).fetchone()[0]

    def reset_statements(self) -> None:
        pass

    def reconnect(self) -> None:
        pass

    def close(self) -> None:
        self.connection.close()


def api_runner(svc: Service, params: dict[str, str]) -> tuple[Callable[[], list[Any]], Any]:
    client = svc.client(timeout=60)

    def run() -> list[Any]:
        response = client.get("/v1/analytics/basis", params=params)
        if response.status_code != 200:
            raise RuntimeError(f"basis -> {response.status_code} {response.text[:500]}")
        return response  # type: ignore[return-value]  # parsed after the clock stops

    return run, client


def plan_findings(plan: str) -> dict[str, Any]:
    """What the plan reads with: scan nodes and the indexes they use; JIT time when there is one."""
    nodes = []
    for line in plan.splitlines():
        text = line.strip().lstrip("->").strip()
        if any(k in text for k in ("Scan", "SCAN", "SEARCH", "USING")):
            nodes.append(text.split("  (")[0])
    jit = next((line.strip() for line in plan.splitlines() if line.strip().startswith("Timing: Generation")), None)
    executed = next((line.split(":")[1].strip() for line in plan.splitlines() if "Execution Time" in line), None)
    return {"scans": nodes, "jit": jit, "execution_time": executed}


# ---------------------------------------------------------------------------------------------
# One engine
# ---------------------------------------------------------------------------------------------


def time_methods(
    runs: dict[str, Callable[[], Any]], repetitions: int, warmup: int, methods: tuple[str, ...]
) -> dict[str, list[float]]:
    timings: dict[str, list[float]] = {m: [] for m in methods}
    for rep in range(warmup + repetitions):
        order = methods[rep % len(methods) :] + methods[: rep % len(methods)]
        for method in order:
            started = time.perf_counter()
            runs[method]()
            elapsed = time.perf_counter() - started
            if rep >= warmup:
                timings[method].append(elapsed)
    return timings


def measure_cases(
    svc: Service | None,
    runner: Any,
    cases: dict[str, dict[str, Any]],
    statements: dict[str, tuple[str, tuple[Any, ...]]],
    raw: dict[str, str],
    raw_params: Callable[[dict[str, Any]], tuple[Any, ...]],
    args: argparse.Namespace,
    *,
    base_statements: dict[str, tuple[str, tuple[Any, ...]]] | None = None,
    methods: tuple[str, ...] = METHODS,
    label: str = "",
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    methods = tuple(m for m in methods if m != "base_sql" or base_statements)
    for name, case in cases.items():
        runs: dict[str, Callable[[], Any]] = {
            "app_sql": runner.query(*statements[name]),
            "raw_sql": runner.query(raw[name], raw_params(case)),
        }
        if base_statements:
            runs["base_sql"] = runner.query(*base_statements[name])
        clients = []
        if "api" in methods and svc is not None:
            runs["api"], client = api_runner(svc, api_params(case))
            clients.append(client)
            if args.tz:
                # The same request in another zone: what a service configured with DECISION_LOG_TIMEZONE=<tz>
                # answers by default (the setting only fills in `tz`). Its buckets differ from the UTC ones.
                runs["api_tz"], client = api_runner(svc, {**api_params(case), "tz": args.tz})
                clients.append(client)
                methods = (*methods, "api_tz") if "api_tz" not in methods else methods
        try:
            answers = {method: normalise(runs[method]()) for method in runs if not method.startswith("api")}
            if "api" in runs:
                answers["api"] = normalise(runs["api"]().json()["rows"])
            same = all(a == answers["raw_sql"] for a in answers.values())
            if "api_tz" in runs:
                zoned = normalise(runs["api_tz"]().json()["rows"])
                # Every decision is counted in the zone too (only the buckets they fall in move).
                same = same and sum(r[2] for r in zoned) == sum(r[2] for r in answers["raw_sql"])
            timings = time_methods(runs, args.repetitions, args.warmup, methods)
        finally:
            for client in clients:
                client.close()
        stats = {m: summary_ms(t) for m, t in timings.items()}
        raw_p50 = stats["raw_sql"]["p50"]
        results[name] = {
            "parameters": {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in case.items()},
            "rows": len(answers["raw_sql"]),
            "decisions": sum(r[2] for r in answers["raw_sql"]),
            "same_answers": same,
            "ms": stats,
            "ratio_p50_vs_raw": {m: stats[m]["p50"] / raw_p50 for m in methods},
            "ratio_p95_vs_raw": {m: stats[m]["p95"] / stats["raw_sql"]["p95"] for m in methods},
        }
        if "api_tz" in stats:
            results[name]["tz"] = args.tz
            results[name]["ratio_p50_tz_vs_utc"] = stats["api_tz"]["p50"] / stats["api"]["p50"]
        log(
            f"  {label}{name}: {len(answers['raw_sql'])} rows over {results[name]['decisions']:,} decisions, "
            + ", ".join(f"{m} p50 {stats[m]['p50']:.1f} ms (p95 {stats[m]['p95']:.1f})" for m in methods)
            + ("" if same else "  ANSWERS DIFFER")
        )
    return results


async def fold_rollup(url: str) -> tuple[float, int]:
    """Fold the rollup deltas the direct load made the triggers append (what the service's background
    folding would do within seconds); (seconds, cells in the rollup)."""
    from sqlalchemy import func, select

    from app.analytics import rollup
    from app.analytics.models import BasisRollup
    from app.core.config import get_settings
    from app.core.unit_of_work import Database

    database = Database(get_settings(), url=url)
    try:
        started = time.perf_counter()
        await rollup.fold(database)
        elapsed = time.perf_counter() - started
        async with database.sessionmaker() as session:
            cells = await session.scalar(select(func.count()).select_from(BasisRollup.__table__))
    finally:
        await database.dispose()
    return elapsed, int(cells or 0)


def run_engine(engine: str, args: argparse.Namespace, org: Organisation) -> dict[str, Any]:
    count = args.pg_rows if engine == "postgresql" else args.sqlite_rows
    with service(engine, pg=args.pg, prefix="bench_analytics", keep=args.keep_db) as svc:
        with svc.client() as client:
            register(client, org)
        sqlite_path = svc.url.removeprefix("sqlite:///")
        if args.load == "api":
            log(f"{engine}: posting {count:,} decisions through POST /v1/decisions/batch (batches of 1,000)")
            load_s = load_through_api(svc, org, count, args)
        else:
            log(f"{engine}: loading {count:,} decisions directly (untimed)")
        rows = stored_rows(org, count, seed=args.seed)
        if engine == "postgresql":
            if args.load != "api":
                load_s = asyncio.run(copy_into_pg(svc.url, rows, total=count))
            runner: Any = PgRunner(svc.url)
            raw, raw_params = PG_RAW, _pg_params
            size = runner.fetchval("SELECT pg_size_pretty(pg_total_relation_size('decision'))")
            heap = runner.fetchval("SELECT pg_size_pretty(pg_relation_size('decision'))")
            settings = {
                r: runner.fetchval(f"SHOW {r}")
                for r in ("jit", "max_parallel_workers_per_gather", "work_mem", "shared_buffers")
            }
        else:
            if args.load != "api":
                load_s = insert_into_sqlite(svc.url, rows)
            runner = SqliteRunner(sqlite_path)
            raw, raw_params = SQLITE_RAW, _sqlite_params
            size = f"{Path(sqlite_path).stat().st_size / 2**20:.0f} MB (file)"
            heap = None
            settings = {"sqlite_version": sqlite3.sqlite_version}
        log(f"{engine}: loaded in {load_s:.0f} s; table {size}")
        if args.load == "api":
            # As a user meets it: whatever the service's own background folding has done by now.
            fold_s, cells = 0.0, int(runner.fetchval("SELECT count(*) FROM basis_rollup"))
            pending = int(runner.fetchval("SELECT count(*) FROM basis_rollup_delta"))
            log(f"{engine}: right after the ingest: {cells:,} rollup cells, {pending:,} deltas pending")
        else:
            fold_s, cells = asyncio.run(fold_rollup(svc.url))
            log(f"{engine}: rollup deltas folded in {fold_s:.1f} s: {cells:,} cells")
        top_owner = runner.fetchval(
            "SELECT owner_handle FROM decision GROUP BY owner_handle ORDER BY count(*) DESC, owner_handle LIMIT 1"
        )
        total = runner.fetchval("SELECT count(*) FROM decision")
        cases = {name: case for name, case in case_parameters(org, top_owner).items() if name in args.cases}
        statements = {name: asyncio.run(capture_statement(svc.url, case)) for name, case in cases.items()}
        base = {name: asyncio.run(capture_statement(svc.url, case, rollups=False)) for name, case in cases.items()}
        try:
            results = measure_cases(svc, runner, cases, statements, raw, raw_params, args, base_statements=base)
            later = None
            if args.load == "api" and args.later:
                log(f"{engine}: the service left alone for {args.later:.0f} s, then the same again")
                time.sleep(args.later)
                later = measure_cases(
                    svc, runner, cases, statements, raw, raw_params, args, base_statements=base, label="later: "
                )
            plans = {}
            for name in cases:
                sql, params = statements[name]
                custom = runner.explain(sql, params)
                plans[name] = {"app_sql": custom, "findings": plan_findings(custom)}
                if engine == "postgresql":
                    for mode in ("generic", "repeated"):
                        plan = runner.explain(sql, params, mode)
                        plans[name][f"app_sql_{mode}"] = plan
                        plans[name][f"findings_{mode}"] = plan_findings(plan)
                    raw_plan = runner.explain(raw[name], raw_params(cases[name]))
                    plans[name]["raw_sql"] = raw_plan
                    plans[name]["findings_raw_sql"] = plan_findings(raw_plan)
            profile_text = profile(args.py_spy, svc, cases, args.profile_requests) if args.py_spy else None
            experiment = None
            if not args.no_index_experiment:
                experiment = experiments(engine, svc, runner, cases, statements, raw, raw_params, args)
        finally:
            runner.close()
    return {
        "engine": engine,
        "decisions": total,
        "load_s": load_s,
        "rollup_fold_s": fold_s,
        "rollup_cells": cells,
        "table_size": size,
        "heap_size": heap,
        "settings": settings,
        "top_owner": top_owner,
        "statements": {name: s for name, (s, _) in statements.items()},
        "base_statements": {name: s for name, (s, _) in base.items()},
        "load": args.load,
        "cases": results,
        "cases_later": later,
        "plans": plans,
        "experiments": experiment,
        "profile": profile_text,
    }


def load_through_api(svc: Service, org: Organisation, count: int, args: argparse.Namespace) -> float:
    """``count`` decisions of the organisation posted as a client would (bench/batch.py's clients); seconds."""
    from batch import run_api

    from app.demo.plan import Decisions

    bodies = list(Decisions(org, count, seed=args.seed, external_refs=True).payloads())
    payloads = [
        json.dumps({"items": bodies[i : i + 1000]}, ensure_ascii=False, separators=(",", ":")).encode()
        for i in range(0, len(bodies), 1000)
    ]
    started = time.perf_counter()
    outcome = asyncio.run(run_api(svc.server.base_url, svc.auth, payloads, args.api_clients))
    elapsed = time.perf_counter() - started
    if set(outcome["statuses"]) != {201}:
        raise RuntimeError(f"ingest through the API failed: {outcome['statuses']} {outcome['failures']}")
    retried = outcome["retries"] or "none"
    log(f"{svc.engine}: {count:,} decisions posted in {elapsed:.0f} s ({count / elapsed:,.0f}/s); retried: {retried}")
    return elapsed


def profile(py_spy: str, svc: Service, cases: dict[str, dict[str, Any]], requests: int) -> str:
    """py-spy over ``requests`` API calls of each case (unmeasured); bench/profile_write.py's summary."""
    import signal
    import subprocess

    from profile_write import parse
    from profile_write import summarise as summarise_profile

    output = RESULTS / f"profile-analytics-{svc.engine}.txt"
    spy = subprocess.Popen(
        [py_spy, "record", "--pid", str(svc.pid), "--rate", "200", "--format", "raw", "--output", str(output)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(1.0)
    for case in cases.values():
        run, client = api_runner(svc, api_params(case))
        try:
            for _ in range(requests):
                run()
        finally:
            client.close()
    spy.send_signal(signal.SIGINT)
    spy.wait(timeout=60)
    return summarise_profile(parse(output.read_text().splitlines()), 40) + f"\n(raw stacks: {output})"


def experiments(
    engine: str,
    svc: Service,
    runner: Any,
    cases: dict[str, dict[str, Any]],
    statements: dict[str, tuple[str, tuple[Any, ...]]],
    raw: dict[str, str],
    raw_params: Callable[[dict[str, Any]], tuple[Any, ...]],
    args: argparse.Namespace,
) -> list[dict[str, Any]]:
    """Each step of PG_STEPS / SQLITE_STEPS in turn, on the throw-away database; the cases measured again."""
    steps = PG_STEPS if engine == "postgresql" else SQLITE_STEPS
    measured = argparse.Namespace(**{**vars(args), "repetitions": args.experiment_repetitions})
    out = []
    for name, statements_ in steps:
        log(f"{engine}: experiment (throw-away database only): + {name}")
        started = time.perf_counter()
        for statement in statements_:
            runner.execute(statement.format(database=svc.name))
        runner.execute("VACUUM ANALYZE decision" if engine == "postgresql" else "ANALYZE")
        build_s = time.perf_counter() - started
        if statements_[0].startswith("ALTER DATABASE"):
            svc.restart()
            runner.reconnect()
        runner.reset_statements()
        results = measure_cases(svc, runner, cases, statements, raw, raw_params, measured, label=f"+ {name}: ")
        findings = {}
        for case in cases:
            findings[case] = plan_findings(runner.explain(*statements[case]))
            if engine == "postgresql":
                findings[case]["repeated"] = plan_findings(runner.explain(*statements[case], "repeated"))["scans"]
        out.append({"step": name, "statements": list(statements_), "build_s": build_s, "cases": results,
                    "findings": findings})  # fmt: skip
    return out


def _pg_params(case: dict[str, Any]) -> tuple[Any, ...]:
    return (case["start"], case["end"], *([case["owner"]] if case["owner"] else []))


def _sqlite_params(case: dict[str, Any]) -> tuple[Any, ...]:
    return (sqlite_time(case["start"]), sqlite_time(case["end"]), *([case["owner"]] if case["owner"] else []))


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------


def table(results: dict[str, dict[str, Any]], config: dict[str, Any]) -> str:
    result_later_label = f"+{config['later']:.0f}s"
    header = ("engine", "case", "rows", "api p50", "p95", "app_sql p50", "p95", "raw_sql p50", "p95",
              "api/raw p50", "api/app_sql", "app_sql/raw", "api tz p50", "tz/utc", "same")  # fmt: skip
    lines = []
    for engine, result in results.items():
        timed = [(name, case) for name, case in result["cases"].items()]
        timed += [(f"{name} {result_later_label}", case) for name, case in (result.get("cases_later") or {}).items()]
        for name, case in timed:
            ms = case["ms"]
            lines.append(
                (engine, name, str(case["rows"]), f"{ms['api']['p50']:.1f}", f"{ms['api']['p95']:.1f}",
                 f"{ms['app_sql']['p50']:.1f}", f"{ms['app_sql']['p95']:.1f}", f"{ms['raw_sql']['p50']:.1f}",
                 f"{ms['raw_sql']['p95']:.1f}", f"{case['ratio_p50_vs_raw']['api']:.2f}x",
                 f"{ms['api']['p50'] / ms['app_sql']['p50']:.2f}x", f"{case['ratio_p50_vs_raw']['app_sql']:.2f}x",
                 f"{ms['api_tz']['p50']:.1f}" if "api_tz" in ms else "-",
                 f"{case['ratio_p50_tz_vs_utc']:.2f}x" if "api_tz" in ms else "-",
                 "yes" if case["same_answers"] else "NO")
            )  # fmt: skip
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    out = ["  ".join(h.rjust(w) if i > 1 else h.ljust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True)))]
    out += ["  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True)))
            for line in lines]  # fmt: skip
    out.append(
        "times in ms; target api/raw p50 <= 1.20x; goal api p50 < 50 ms at 1 M (needs rollups); "
        f"api tz: the same request with tz={config['tz'] or '-'}, goal tz/utc <= 1.2x"
    )
    for engine, result in results.items():
        out.append(
            f"{engine}: {result['decisions']:,} decisions, table {result['table_size']},"
            f" top owner {result['top_owner']}"
        )
        for name, plan in result["plans"].items():
            first = plan["findings"]
            timing = f" ({first['execution_time']})" if first["execution_time"] else ""
            out.append(f"  plan {name}, first executions{timing}: {' | '.join(first['scans'])}")
            if first["jit"]:
                out.append(f"    JIT {first['jit']}")
            for mode in ("repeated", "generic"):
                found = plan.get(f"findings_{mode}")
                if found:
                    label = "after 6 executions" if mode == "repeated" else "generic plan"
                    out.append(f"    {label} ({found['execution_time']}): {' | '.join(found['scans'])}")
        for step in result["experiments"] or []:
            out.append(f"  + {step['step']} (built in {step['build_s']:.0f} s, throw-away database):")
            for name, case in step["cases"].items():
                before, after = result["cases"][name]["ms"], case["ms"]
                out.append(
                    f"    {name}: raw_sql p50 {before['raw_sql']['p50']:.1f} -> {after['raw_sql']['p50']:.1f} ms, "
                    f"app_sql {before['app_sql']['p50']:.1f} -> {after['app_sql']['p50']:.1f}, "
                    f"api {before['api']['p50']:.1f} -> {after['api']['p50']:.1f} "
                    f"({case['ratio_p50_vs_raw']['api']:.2f}x raw); plan: {' | '.join(step['findings'][name]['scans'])}"
                )
    out.append(
        f"{config['repetitions']} repetitions after {config['warmup']} warm-up; "
        f"{config['machine']['cpus']} CPUs, load average {config['machine']['loadavg']}"
    )
    return "\n".join(out)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engines", default="postgresql,sqlite")
    parser.add_argument("--pg-rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--cases", default=",".join(CASES), help="comma-separated subset of " + ",".join(CASES))
    parser.add_argument("--repetitions", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--no-index-experiment", action="store_true", help="skip the statistics/index experiments")
    parser.add_argument("--experiment-repetitions", type=int, default=10)
    parser.add_argument("--py-spy", help="path to py-spy: profiles the service over extra API calls of each case")
    parser.add_argument("--profile-requests", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--load",
        choices=("copy", "api"),
        default="copy",
        help="copy: COPY / INSERT directly and fold the rollup before timing; api: POST /v1/decisions/batch as "
        "users load it, timed right after the ingest and again --later seconds later",
    )
    parser.add_argument("--later", type=float, default=60.0)
    parser.add_argument("--api-clients", type=int, default=4)
    parser.add_argument(
        "--tz", default="America/New_York", help="also time each API case in this zone (`tz`); '' to skip"
    )
    parser.add_argument("--pg", default=DEFAULT_PG, help="PostgreSQL server, no database")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "analytics.json")
    args = parser.parse_args()
    args.cases = [c for c in args.cases.split(",") if c]
    return args


def main() -> None:
    args = parse_args()
    org = organisation()
    load_before = machine_note()
    results = {engine: run_engine(engine, args, org) for engine in args.engines.split(",") if engine}
    config = {
        "repetitions": args.repetitions,
        "warmup": args.warmup,
        "pg_rows": args.pg_rows,
        "sqlite_rows": args.sqlite_rows,
        "range": [org.start.isoformat(), org.end.isoformat()],
        "tz": args.tz,
        "load": args.load,
        "later": args.later,
        "machine": machine_note(),
        "loadavg_before": load_before["loadavg"],
        "python": platform.python_version(),
        "finished_at": datetime.now(UTC).isoformat(),
        "git": git_state(),
    }
    for result in results.values():
        for case in [*result["cases"].values(), *(result.get("cases_later") or {}).values()]:
            case["meets_target"] = case["ratio_p50_vs_raw"]["api"] <= 1.2
            case["meets_goal_50ms"] = case["ms"]["api"]["p50"] < 50
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"config": config, "results": results}, indent=2, default=str) + "\n")
    print(table(results, config))
    for engine, result in results.items():
        if result["profile"]:
            print(f"\nprofile of the service over the API calls on {engine} (py-spy):\n{result['profile']}")
    log(f"written {args.output}")


if __name__ == "__main__":
    main()
